"""The platform's rules as data (SPEC §4), validated by pydantic when loaded."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

PACKAGED = Path(__file__).parent


class Category(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name_zh: str
    requires: list[list[str]] = Field(default_factory=list,
                                      description="Groups of doc types; one of each group is needed")
    open_for_online_sale: bool = True
    closed_reason: str | None = Field(None, description="Shown to the merchant when the category is closed")


class CategoryTable(BaseModel):
    model_config = ConfigDict(extra="forbid")

    always_requires: list[list[str]]
    branded_requires: list[list[str]] = Field(default_factory=list)
    categories: dict[str, Category]
    entity_documents: list[str]
    product_documents: list[str]
    colour_seal_documents: list[str] = Field(default_factory=list,
                                             description="Types whose originals carry colour seals or borders "
                                                         "(a grey copy of one is flagged as a photocopy)")

    @model_validator(mode="after")
    def _closed_needs_reason(self) -> CategoryTable:
        for code, cat in self.categories.items():
            if not cat.open_for_online_sale and not cat.closed_reason:
                raise ValueError(f"category {code} is closed but has no closed_reason")
        return self


class CaptureFlagThresholds(BaseModel):
    """Numbers behind the capture and authenticity flags of SPEC §4 rule 8 (pipeline.capture_flags)."""

    model_config = ConfigDict(extra="forbid")

    border_edge_tolerance: float = Field(0.004, ge=0, le=0.05,
                                         description="A text line whose box comes within this share of the "
                                                     "image's long side of an edge may be cut by it")
    border_min_ink_share: float = Field(0.15, ge=0, le=1,
                                        description="… and is cut when print runs through the outermost pixels "
                                                    "under at least this share of the line's length")
    border_background_max_paper: float = Field(0.35, ge=0, le=1,
                                               description="A side with at most this share of paper shows the "
                                                           "background: the image is a photo of a sheet")
    border_min_paper_share: float = Field(0.6, ge=0, le=1,
                                          description="In such a photo, a side at least this much paper is one "
                                                      "the sheet runs off")
    border_min_frame_ink: float = Field(0.01, ge=0, le=1,
                                        description="… when at least this share of the band inside it is print "
                                                    "(the printed frame or text runs off, not a blank margin)")
    border_text_near: float = Field(0.03, ge=0, le=0.5,
                                    description="… and at least border_min_lines_near text lines lie within this "
                                                "share of the long side from that edge (content, not a margin, "
                                                "runs off)")
    border_min_lines_near: int = Field(2, ge=0, description="See border_text_near")
    occlusion_min_area_share: float = Field(0.006, ge=0, le=1,
                                            description="A skin-coloured blob over the sheet covering at least "
                                                        "this share of the image is a finger or hand")
    occlusion_min_text_overlap: float = Field(0.3, ge=0, le=1,
                                              description="share of a text line's box under a finger's box for "
                                                          "the finger to hide print")
    glare_min_excess: float = Field(20.0, ge=0, le=255,
                                    description="A highlight this many grey levels above the page's fitted "
                                                "lighting is a reflection")
    glare_min_area_share: float = Field(0.004, ge=0, le=1, description="… covering at least this share of the image")
    screenshot_status_bar_share: float = Field(0.06, ge=0, le=0.5,
                                               description="A phone status bar (clock, battery, signal) lies in "
                                                           "this top share of the image")
    screenshot_min_aspect: float = Field(1.75, ge=1,
                                         description="Long side over short side of a phone screen (with a clock "
                                                     "in the status bar: a screenshot)")
    born_digital_min_flat_share: float = Field(0.5, ge=0, le=1,
                                               description="At least this share of noise-free background blocks: "
                                                           "a render, not a scan or photo (an electronic licence "
                                                           "print, a screenshot)")
    licence_bottom_anchors: str = Field(
        r"登记机关|发照机关|监制|信用信息公示|gsxt|^[0-9〇○零一二三四五六七八九十OQ]{2,4}年|^[0-9〇○零一二三四五六七八九十]{0,2}[月日]$|^年$",
        description="Regex of what a business licence prints at or below its last row (登记机关, the issue date, "
                    "the registry footer): none read there, with print running to the bottom edge, and the "
                    "frame cut the sheet below its last field")
    licence_top_anchors: str = Field(
        r"营业执照|执照|信用代码|注册号|编号|副本|正本|[0-9A-Z]{15,18}",
        description="Regex of what a business licence prints above its first row (the title, 副本, the credit code "
                    "or 注册号, 编号): none read there, with print running to the top edge, and the frame cut "
                    "the sheet above its first field")
    licence_row_labels: str = Field(
        r"成立日期|注册日期|营业期限|经营期限|有效期|名称|住所|经营场所|营业场所|法定代表人|负责人|经营者|注册资本|"
        r"经营范围|类型|组成形式|投资人",
        description="Regex of a business licence's row labels (a line that starts with one is a field row)")
    licence_footer: str = Field(r"监制|信用信息公示系统网址|gsxt",
                                description="Regex of a business licence's footer, the last line it prints: read at "
                                            "the bottom of the text, the sheet's bottom edge is in the frame")
    bottom_cut_max_gap: float = Field(0.25, ge=0, le=1,
                                      description="the sheet can only run off below if the text reaches this close "
                                                  "to the image's bottom (share of the text block's height)")
    top_cut_max_lines: float = Field(2.0, ge=0, le=20,
                                     description="the sheet can only run off above if the print starts within this "
                                                 "many text-line heights of the image's top (the band above 名称 is "
                                                 "narrow: a wider margin is a sheet whose title was not read)")
    seal_min_confidence: float = Field(0.85, ge=0, le=1,
                                       description="A seal's text read at least this well is legible (a seal "
                                                   "naming another company, an authority mismatch)")
    seal_name_score: float = Field(85.0, ge=0, le=100,
                                   description="Partial-ratio score at or above which a seal's text names a "
                                               "party (the letter's grantor, the printed authority)")
    seal_support_name: float = Field(0.3, ge=0, le=1,
                                     description="CTC support (pipeline.ocr.ctc.support) at or above which a seal "
                                                 "names a party even where its greedy reading has look-alikes")
    seal_char_confident: float = Field(0.9, ge=0, le=1,
                                       description="A seal strip reading one of a name's characters as another "
                                                   "with at least this probability does not support the name")
    seal_support_other: float = Field(0.05, ge=0, le=1,
                                      description="Below this support for both grantor and grantee, a legible "
                                                  "seal names some other company")


class VideoLimits(BaseModel):
    """How product videos are sampled, and the limits past which one is UNREADABLE (SPEC §6)."""

    model_config = ConfigDict(extra="forbid")

    max_seconds: float = Field(180.0, gt=0, description="A longer video is not screened: UNREADABLE (review)")
    max_bytes: int = Field(50 * 1024 * 1024, ge=1, description="A larger file is not screened (the ingest "
                                                               "limit max_file_bytes applies first)")
    max_pixels: int = Field(4096 * 2304, ge=1, description="Frames with more pixels are not decoded")
    max_frames: int = Field(180, ge=1, description="More distinct frames to screen than this: UNREADABLE "
                                                    "(review), never a partial pass")
    sample_every_s: float = Field(1.0, gt=0, le=1.0, description="At least one frame this often (SPEC: one a "
                                                                  "second at least)")
    cut_min_difference: float = Field(20.0, ge=0, le=255,
                                      description="Mean grey-level change between consecutive 64-px-wide "
                                                  "frames at or above which the second starts a new shot (a cut)")
    change_min_block_difference: float = Field(100.0, ge=0, le=255,
                                               description="Worst 8×8-block change between consecutive "
                                                           "160-px-wide frames at or above which, when the "
                                                           "next frame keeps it, something appeared (a "
                                                           "sticker, a banner): sampled too")
    min_event_gap_s: float = Field(0.2, ge=0, description="Cuts and appearances sample at most one frame this "
                                                          "often (the next one after the gap when too soon)")
    same_frame_max_block_difference: float = Field(6.0, ge=0, le=255,
                                                   description="A sampled frame whose 160-px-wide copy differs "
                                                               "from the last one screened by at most this "
                                                               "(mean over the worst 8×8 block) is the same "
                                                               "picture: not screened again")


class Thresholds(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name_near_score: float = Field(ge=0, le=100)
    field_confidence_floor: float = Field(ge=0, le=1)
    reject_confidence: float = Field(ge=0, le=1)
    classify_confidence_floor: float = Field(ge=0, le=1)
    near_expiry_days: int = Field(ge=0)
    min_remaining_days: int = Field(ge=0)
    photocopy_max_colour_fraction: float = Field(ge=0, le=1)
    recapture_min_tinted_share: float = Field(ge=0, le=1)
    recapture_min_hue_bands: int = Field(ge=1, le=12)
    product_match_score: float = Field(ge=0, le=100)
    product_mismatch_score: float = Field(ge=0, le=100)
    max_documents: int = Field(20, ge=1, description="More documents than this (after a file listed twice "
                                                     "is counted once) make a submission unusable")
    max_product_images: int = Field(20, ge=0, description="More product images than this make a submission "
                                                          "unusable")
    max_product_videos: int = Field(5, ge=0, description="More product videos than this make a submission "
                                                         "unusable")
    video: VideoLimits = Field(default_factory=VideoLimits, description="Product video sampling and limits")
    capture_flags: CaptureFlagThresholds = Field(default_factory=CaptureFlagThresholds,
                                                 description="Border, occlusion, glare, screenshot flags")


class CompactDrops(BaseModel):
    model_config = ConfigDict(extra="forbid")

    categories: list[str] = Field(description="Unicode general categories (Po, So, Zs, Cf…) removed from the "
                                              "compact form of a text")
    keep: list[str] = Field(default_factory=list, description="Characters kept all the same")

    @model_validator(mode="after")
    def _known_categories(self) -> CompactDrops:
        known = {"Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Me", "Nd", "Nl", "No", "Pc", "Pd", "Ps", "Pe", "Pi",
                 "Pf", "Po", "Sm", "Sc", "Sk", "So", "Zs", "Zl", "Zp", "Cc", "Cf", "Cs", "Co", "Cn"}
        unknown = [c for c in self.categories if c not in known]
        if unknown:
            raise ValueError(f"compact_drops: not Unicode general categories: {', '.join(unknown)}")
        if any(c[0] in "LN" for c in self.categories):
            raise ValueError("compact_drops: letters and digits are what a text says; they cannot be dropped")
        return self


class ContentRules(BaseModel):
    """SPEC §6: what a listing's pictures, video frames and text may not carry (rules/content.yaml)."""

    model_config = ConfigDict(extra="forbid")

    banned_words: list[str] = Field(description="Absolute superlatives banned by the Advertising Law")
    allowed_phrases: list[str] = Field(default_factory=list,
                                       description="Regexes of ordinary wording that contains a banned word "
                                                   "(第一次, 最好在…, 100%纯棉): blanked before matching")
    contact_patterns: dict[str, str] = Field(description="Regexes of contact details (phone, WeChat, QQ, links), "
                                                         "matched case-insensitively on the folded text")
    variants: dict[str, str] = Field(default_factory=dict,
                                     description="Look-alikes and homophones (威 → 微, ❤ → 信, 幺 → 1) replaced "
                                                 "in the form contact patterns are matched on")
    compact_drops: CompactDrops = Field(description="What the compact form of a text leaves out")

    @model_validator(mode="after")
    def _patterns_compile(self) -> ContentRules:
        import re

        for name, pattern in self.contact_patterns.items():
            try:
                re.compile(pattern)
            except re.error as e:
                raise ValueError(f"contact pattern {name}: {e}") from None
        for pattern in self.allowed_phrases:
            try:
                re.compile(pattern)
            except re.error as e:
                raise ValueError(f"allowed phrase {pattern!r}: {e}") from None
        if not all(w.strip() for w in self.banned_words):
            raise ValueError("banned_words: an empty word would match every text")
        if not all(self.variants):
            raise ValueError("variants: an empty key would be replaced everywhere")
        return self


# What a merchant-message template may name: the merchant's own upload and declarations only.
MESSAGE_PLACEHOLDERS = frozenset({"file", "doc_name", "field_name", "found", "expected", "found_date",
                                  "required_docs", "declared_doc", "closed_reason"})


def message_placeholders(text: str) -> set[str]:
    import string

    try:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError as e:
        raise ValueError(f"{text!r}: {e}") from None


class MessageCondition(BaseModel):
    """When a template applies (every key given must hold)."""

    model_config = ConfigDict(extra="forbid")

    check: list[str] = Field(default_factory=list, description="Names of the checks it is for")
    doc_type: list[str] = Field(default_factory=list, description="Types of the document it is about")
    status: list[str] = Field(default_factory=list, description="fail / review")
    found_contains: list[str] = Field(default_factory=list, description="Words one of which is in the finding")
    expected_contains: list[str] = Field(default_factory=list, description="Words one of which is in what was "
                                                                           "expected")


class MessageTemplate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    when: MessageCondition = Field(default_factory=MessageCondition)
    text: str = Field(min_length=1)

    @model_validator(mode="after")
    def _known_placeholders(self) -> MessageTemplate:
        unknown = message_placeholders(self.text) - MESSAGE_PLACEHOLDERS
        if unknown:
            raise ValueError(f"{self.text!r} names unknown placeholders {sorted(unknown)} "
                             f"(known: {sorted(MESSAGE_PLACEHOLDERS)})")
        return self


class CodeMessages(BaseModel):
    model_config = ConfigDict(extra="forbid")

    generic: str = Field(min_length=1, description="Used when no template fits: no placeholders")
    templates: list[MessageTemplate] = Field(default_factory=list)

    @model_validator(mode="after")
    def _generic_is_plain(self) -> CodeMessages:
        if message_placeholders(self.generic):
            raise ValueError(f"generic message {self.generic!r} may not have placeholders")
        return self


class MerchantMessages(BaseModel):
    """SPEC §2 `merchant_message` templates per reason code (rules/merchant_messages.yaml)."""

    model_config = ConfigDict(extra="forbid")

    default: str = Field(min_length=1, description="For a reason code with no entry")
    fields: dict[str, str] = Field(default_factory=dict, description="Field name -> its Chinese label")
    check_fields: dict[str, str] = Field(default_factory=dict, description="Check name -> the field it rests on "
                                                                           "(when the check does not say)")
    codes: dict[str, CodeMessages]

    @model_validator(mode="after")
    def _default_is_plain(self) -> MerchantMessages:
        if message_placeholders(self.default):
            raise ValueError("the default merchant message may not have placeholders")
        return self


class UploadRequirements(BaseModel):
    """What each upload must show, told to the merchant before upload (rules/upload_requirements.yaml)."""

    model_config = ConfigDict(extra="forbid")

    every_upload: list[str] = Field(min_length=1, description="For every document")
    entity_documents: list[str] = Field(default_factory=list, description="Also for entity licences (rule 4)")
    product_documents: list[str] = Field(default_factory=list, description="Also for product documents (rule 5)")
    by_type: dict[str, list[str]] = Field(default_factory=dict, description="Also for one document type")


class Rules(BaseModel):
    categories: CategoryTable
    thresholds: Thresholds
    content: ContentRules
    merchant_messages: MerchantMessages
    upload_requirements: UploadRequirements


def _read(path: Path) -> dict:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as e:
        raise ValueError(f"{path}: not valid YAML: {e}") from None


@lru_cache(maxsize=8)
def load_rules(directory: Path | None = None) -> Rules:
    """Rules from `directory` (files missing there fall back to the packaged ones)."""
    def pick(name: str) -> Path:
        if directory is not None and (directory / name).is_file():
            return directory / name
        return PACKAGED / name

    return Rules(categories=CategoryTable.model_validate(_read(pick("categories.yaml"))),
                 thresholds=Thresholds.model_validate(_read(pick("thresholds.yaml"))),
                 content=ContentRules.model_validate(_read(pick("content.yaml"))),
                 merchant_messages=MerchantMessages.model_validate(_read(pick("merchant_messages.yaml"))),
                 upload_requirements=UploadRequirements.model_validate(_read(pick("upload_requirements.yaml"))))
