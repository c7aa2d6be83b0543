"""The intake API (SPEC §7): the listing service's interface to zizhi. `zizhi serve` runs it."""
