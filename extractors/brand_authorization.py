"""品牌授权书: a letter, not a form. Grantor, grantee, brand and period come from labelled lines
when the letter has them (授权方：…, 被授权方：…, 授权期限：…) and otherwise from its sentences
(兹授权X公司…销售「Y」品牌…，授权期限自…至…).

holder_name is the grantee (被授权方), as SPEC §3 says.
"""

from __future__ import annotations

import dataclasses
import itertools
import re

from extractors.layout import find_labels, group_rows, value_after
from extractors.text import chinese_punctuation
from extractors.types import Extraction, OcrLine
from extractors.values import field_from_value, lenient_period, line_field

LABELS = {
    "holder_name": ["被授权方", "被授权人", "被授权单位", "被授权公司", "被授权企业", "乙方"],
    "grantor": ["授权方", "授权人", "授权单位", "授权公司", "授权企业", "品牌方", "商标注册人", "甲方"],
    "brand": ["授权品牌", "品牌名称", "商标名称"],  # not bare 品牌: the title 品牌授权书 starts with it
    "period": ["授权期限", "授权有效期", "有效期限", "授权期", "有效期"],
    "_stop": ["授权范围", "授权区域", "授权平台", "授权内容", "商标注册号", "注册号", "地址", "联系人", "电话",
              "法定代表人", "签字", "盖章", "日期"],
}

ENTITY = (r"[\u4e00-\u9fff（）()·A-Za-z0-9]{4,40}?(?:有限责任公司|股份有限公司|有限公司|公司|商行|经营部|店|厂|中心"
          r"|局|研究所|研究院|协会|委员会)")
GRANTEE_SENTENCE = re.compile(rf"(?:(?:兹|特|现)?授权|同意)\s*(?P<name>{ENTITY})\s*(?:为|在|作为|于|销售|经营|使用)")
# "我局（九江市某区文化新闻出版局）…", "本公司（某某有限公司）…": the letter names its writer in the body
GRANTOR_SELF = re.compile(rf"^[我本](?:局|公司|司|单位|厂|中心|所|院|会)\s*[（(](?P<name>{ENTITY})[）)]")
SIGNATURE_DATE = re.compile(r"^[0-9〇○零一二三四五六七八九十]{4}\s*[年.\-/]")
BRAND_QUOTED = re.compile(r"[「『“\"《【](?P<brand>[^」』”\"》】]{1,20})[」』”\"》】]\s*(?:品牌|商标|牌)")
BRAND_WORD = re.compile(r"(?P<brand>[\u4e00-\u9fffA-Za-z0-9]{2,12})品牌")
GRANTOR_SENTENCE = re.compile(rf"(?P<name>{ENTITY})\s*(?:（以下简称|\(以下简称|系|是|作为|为)[^。]*?(?:商标|品牌)")
PERIOD_SENTENCE = re.compile(r"(?:授权期限|有效期|期限)?\s*自?\s*(?P<period>[0-9〇○零一二三四五六七八九十]{4}\s*[年.\-/][^。；;]{4,40}?"
                             r"(?:至|到|—|-)[^。；;]{2,30}?(?:日|长期|止))")


def extract(lines: list[OcrLine]) -> Extraction:
    rows = group_rows(lines)
    hits = find_labels(rows, LABELS)
    first = {}
    for hit in hits:
        first.setdefault(hit.field, hit)
    out = Extraction(doc_type="brand_authorization")

    for name in ("holder_name", "grantor"):
        hit = first.get(name)
        if hit is not None:
            value = value_after(rows, hit, hits)
            text = chinese_punctuation(value.text.strip("：:（）() "))
            m = re.match(ENTITY, text)
            if m:
                out.fields[name] = field_from_value(value, m.group(0))
    hit = first.get("brand")
    if hit is not None:
        value = value_after(rows, hit, hits)
        text = value.text.strip("：: 「」『』“”\"《》【】")
        if text:
            out.fields["brand"] = field_from_value(value, text)
    hit = first.get("period")
    if hit is not None:
        value = value_after(rows, hit, hits, max_rows=2)
        try:
            start, end = lenient_period(value.text.strip("：: 自").rstrip("止。"))
        except Exception:  # noqa: BLE001 - the sentence search below may still find the period
            start, end = None, None
        if start is not None:
            out.fields["valid_from"] = field_from_value(value, start.isoformat())
        if end is not None:
            out.fields["valid_until"] = field_from_value(value, end if isinstance(end, str) else end.isoformat())

    _from_sentences(out, lines)
    out.signatory = _signatory(lines)
    if "grantor" not in out.fields and out.signatory is not None:
        # no 授权方 line and no sentence naming the writer: the party that signs the letter grants it
        out.fields["grantor"] = dataclasses.replace(out.signatory, note="grantor taken from the signature block")
    return out


def _signatory(lines: list[OcrLine]):
    """The entity that signs the letter: the name on the line just above its date, in the letter's
    last part (the signature block, where the seal is)."""
    if not lines:
        return None
    bottom = max(float(ln.quad[:, 1].max()) for ln in lines)
    top = min(float(ln.quad[:, 1].min()) for ln in lines)
    ordered = sorted(lines, key=lambda ln: float(ln.quad[:, 1].mean()))
    for i, line in enumerate(ordered):
        compact = re.sub(r"\s+", "", line.text)
        if not SIGNATURE_DATE.match(compact) or float(line.quad[:, 1].min()) < top + 0.5 * (bottom - top):
            continue
        for above in reversed(ordered[max(0, i - 3):i]):
            text = chinese_punctuation(re.sub(r"\s+", "", above.text))
            text = re.sub(r"^(授权方|授权人|授权单位|甲方)[（(]?(盖章|签章|公章)?[）)]?[:：]?", "", text)
            m = re.fullmatch(ENTITY, text)
            if m and above.confidence >= 0.8:
                start = above.text.find(text[0]) if text else 0
                return line_field(above, max(0, start), len(above.text), text, confidence_factor=0.95)
    return None


def _find_in_lines(lines: list[OcrLine], pattern: re.Pattern, group: str):
    """First match in a single OCR line (boxes need a line), then across joined neighbours."""
    for line in lines:
        m = pattern.search(line.text)
        if m:
            return line, m.start(group), m.end(group), m.group(group)
    for a, b in itertools.pairwise(lines):
        joined = a.text + b.text
        m = pattern.search(joined)
        if m:
            line = a if m.start(group) < len(a.text) else b
            offset = 0 if line is a else len(a.text)
            return line, max(0, m.start(group) - offset), min(len(line.text), m.end(group) - offset), m.group(group)
    return None


def _from_sentences(out: Extraction, lines: list[OcrLine]) -> None:
    factor = 0.95  # read from prose, not from a labelled line
    if "holder_name" not in out.fields:
        found = _find_in_lines(lines, GRANTEE_SENTENCE, "name")
        if found:
            line, a, b, text = found
            out.fields["holder_name"] = line_field(line, a, b, chinese_punctuation(text), confidence_factor=factor)
    if "brand" not in out.fields:
        found = _find_in_lines(lines, BRAND_QUOTED, "brand") or _find_in_lines(lines, BRAND_WORD, "brand")
        if found:
            line, a, b, text = found
            out.fields["brand"] = line_field(line, a, b, text.strip(), confidence_factor=factor)
    if "grantor" not in out.fields:
        found = _find_in_lines(lines, GRANTOR_SELF, "name") or _find_in_lines(lines, GRANTOR_SENTENCE, "name")
        if found:
            line, a, b, text = found
            out.fields["grantor"] = line_field(line, a, b, chinese_punctuation(text), confidence_factor=factor)
    if "valid_until" not in out.fields:
        found = _find_in_lines(lines, PERIOD_SENTENCE, "period")
        if found:
            line, a, b, text = found
            try:
                start, end = lenient_period(text)
            except Exception:  # noqa: BLE001 - no readable period: the rules ask for review
                return
            if start is not None:
                out.fields["valid_from"] = line_field(line, a, b, start.isoformat(), confidence_factor=factor)
            if end is not None:
                until = end if isinstance(end, str) else end.isoformat()
                out.fields["valid_until"] = line_field(line, a, b, until, confidence_factor=factor)



