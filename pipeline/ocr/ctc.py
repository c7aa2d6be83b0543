"""How well a recognised strip supports a given text: CTC likelihood over the recogniser's own output.

A CTC recogniser (PP-OCR's) outputs, for each of T time steps across the strip, a probability for
every character and for "blank". Its reading is the greedy best path. When the strip is hard (a
seal's curved text, unwrapped), the greedy path picks a look-alike in a few places (牧 → 教) while
the right character still has real probability there. Asking "does this strip say X?" of the
probabilities, rather than comparing X with the greedy reading by edit distance, keeps those
confusions apart from a different text: a different company name has next to no probability at the
steps where its characters differ.

`TextPosterior` keeps the top-k characters per step (small enough to store with a reading);
`log_likelihood` is the standard CTC forward algorithm (Graves et al., 2006, "Connectionist
Temporal Classification", §4.1) over those top-k probabilities, with every character outside the
top k given `floor`. `support(posterior, text)` is the per-character geometric mean of
P(text) / P(the reading): 1.0 when `text` is the reading, well under 0.1 when a few characters of
`text` are not there at all. No library here offers CTC scoring without PyTorch, hence these lines.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

BLANK = ""  # CTC's blank as stored in TextPosterior.chars


@dataclass
class TextPosterior:
    """The recogniser's top-k characters per CTC time step of one strip.

    chars: T lists of k characters (BLANK for CTC's blank); probs: (T, k) float32, same order.
    """

    chars: list[list[str]]
    probs: np.ndarray

    @property
    def confidence(self) -> float:
        """Mean probability of the reading's characters at the steps that emit them (as RapidOCR
        scores a line); 0.0 for an empty reading."""
        kept = [p for _, p in self.read_characters()]
        return sum(kept) / len(kept) if kept else 0.0

    @property
    def reading(self) -> str:
        """The greedy best path (what the recogniser itself reads)."""
        return "".join(c for c, _ in self.read_characters())

    def read_characters(self) -> list[tuple[str, float]]:
        """The reading's characters, each with its probability at the step that emits it."""
        out, last = [], None
        for step, p in zip(self.chars, self.probs):
            c = step[0]
            if c != last and c != BLANK:
                out.append((c, float(p[0])))
            last = c
        return out


def top_k(probs: np.ndarray, alphabet: list[str], k: int = 8) -> TextPosterior:
    """TextPosterior of one strip from the recogniser's (T, C) probabilities; `alphabet[i]` is the
    character of column i, BLANK for column 0 (CTC blank)."""
    idx = np.argsort(-probs, axis=1)[:, :k]
    chars = [[alphabet[i] if i > 0 else BLANK for i in row] for row in idx]
    return TextPosterior(chars=chars, probs=np.take_along_axis(probs, idx, axis=1).astype(np.float32))


def log_likelihood(posterior: TextPosterior, text: str, floor: float = 1e-6, within: bool = False) -> float:
    """ln P(text | strip) under CTC, summed over every alignment (forward algorithm).

    Characters outside a step's top k get probability `floor`. With `within`, `text` may be only
    part of the strip: the steps before and after it are free (probability 1), the best start and
    end are taken. -inf if `text` cannot fit in T steps.
    """
    T = len(posterior.chars)
    if not text:
        return -math.inf
    labels = [BLANK]
    for c in text:
        labels += [c, BLANK]
    S = len(labels)
    if T == 0 or S > 2 * T + 1:
        return -math.inf
    # emissions (T, S): each label's probability at each step
    emit = np.full((T, S), floor, dtype=np.float64)
    for t, (cs, ps) in enumerate(zip(posterior.chars, posterior.probs)):
        where = dict(zip(cs, ps))
        for s, lab in enumerate(labels):
            p = where.get(lab)
            if p is not None:
                emit[t, s] = max(float(p), floor)
    log_emit = np.log(emit)
    # a step may come from the same label, the one before, or two before when that skips a blank
    # between two different characters
    skip = np.zeros(S, dtype=bool)
    for s in range(2, S):
        skip[s] = labels[s] != BLANK and labels[s] != labels[s - 2]
    alpha = np.full(S, -np.inf)
    alpha[:2] = log_emit[0, :2]
    best_end = float(np.logaddexp(alpha[-1], alpha[-2]))
    for t in range(1, T):
        prev1 = np.concatenate(([-np.inf], alpha[:-1]))
        prev2 = np.where(skip, np.concatenate(([-np.inf, -np.inf], alpha[:-2])), -np.inf)
        alpha = np.logaddexp(np.logaddexp(alpha, prev1), prev2)
        if within:  # the text may start here, after free steps
            alpha[:2] = np.maximum(alpha[:2], 0.0)
        alpha = alpha + log_emit[t]
        if within:
            best_end = max(best_end, float(np.logaddexp(alpha[-1], alpha[-2])))
    return best_end if within else float(np.logaddexp(alpha[-1], alpha[-2]))


def support(posterior: TextPosterior, text: str) -> float:
    """How well the strip supports `text` somewhere along it, 0–1: the per-character geometric mean
    of P(text within the strip) / P(the recogniser's own reading within it).

    1.0 when `text` is (part of) the reading; each character of `text` the strip does not show
    costs a factor of about that character's probability there (1e-6 when not among the top k).
    """
    reading = posterior.reading
    if not text or not reading:
        return 0.0
    ll = log_likelihood(posterior, text, within=True)
    if ll == -math.inf:
        return 0.0
    base = log_likelihood(posterior, reading, within=True)
    return 1.0 if ll >= base else math.exp((ll - base) / len(text))


def confident_substitutions(posterior: TextPosterior, text: str, confident: float = 0.9,
                            keep=lambda c: True) -> list[tuple[str, str, float]]:
    """Where the reading, aligned with `text` (Levenshtein), reads another character than `text`
    has and is sure of it (probability ≥ `confident`): (read, text's, probability) for each.

    Support averages over characters, so one character read clearly as another (禾田 for 禾苗)
    costs only a factor of ~0.3 in a 12-character name: this is the evidence that such a strip does
    not say `text`. `keep` filters the reading's characters first (e.g. CJK only, as `text`)."""
    from rapidfuzz.distance import Levenshtein

    read = [(c, p) for c, p in posterior.read_characters() if keep(c)]
    word = "".join(c for c, _ in read)
    return [(word[i], text[j], read[i][1]) for op, i, j in Levenshtein.editops(word, text)
            if op == "replace" and read[i][1] >= confident]
