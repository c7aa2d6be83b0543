"""What the API's routes share: the verdict store, the intake records, object storage, rules, limits."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from api.settings import ApiSettings
from api.uploads import Limits
from operations.intake import IntakeSettings, IntakeStore
from operations.objects import ObjectStore
from operations.store import Store
from pipeline.settings import get_settings
from rules import Rules, load_rules


@dataclass
class Service:
    store: Store
    objects: ObjectStore
    settings: ApiSettings
    intake_settings: IntakeSettings
    on_accept: Callable[[], None] | None = None  # wakes the embedded worker and the notifier
    intake: IntakeStore = field(init=False)

    def __post_init__(self) -> None:
        self.intake = IntakeStore(self.store)

    @property
    def rules(self) -> Rules:
        return load_rules(get_settings().rules_dir)

    @property
    def limits(self) -> Limits:
        rules = self.rules.thresholds
        # Never more than the pipeline will read: a file it would refuse is refused at the door.
        max_file = min(self.settings.max_file_bytes, get_settings().ingest.max_file_bytes)
        return Limits(max_file_bytes=max_file, max_request_bytes=self.settings.max_request_bytes,
                      max_parts=rules.max_documents + rules.max_product_images
                      + rules.max_product_videos + 1, body_idle_seconds=self.settings.body_idle_seconds)
