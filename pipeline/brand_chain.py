"""Rule 6: the brand chain, 商标注册人 → (at most two letters) → 店铺主体.

The trademark certificate names the brand and its registrant. If the registrant is the shop
company, nothing more is needed. Otherwise brand-authorization letters must connect them: the
first letter's grantor is the registrant, each later letter's grantor is the previous letter's
grantee, the last grantee is the shop company; every letter names the declared brand, lies
inside the previous period and the trademark's, and has at least `min_remaining_days` left.
"""

from __future__ import annotations

import datetime as dt

from pipeline.document import DocumentWork
from pipeline.evaluation import Evaluation, low_confidence, trusted
from pipeline.models import Check, FieldValue, Submission
from rules import Rules, Thresholds
from validators import names

MAX_LEVELS = 2
FAR_FUTURE = dt.date.max


def _date(value: FieldValue | None, default: dt.date) -> dt.date:
    if value is None:
        return default
    if value.value == "long_term":
        return FAR_FUTURE
    return dt.date.fromisoformat(value.value)


def _same(a: str, b: str, t: Thresholds) -> str:
    return names.compare_names(a, b, near_threshold=t.name_near_score).status


def _brand_named(ev: Evaluation, work: DocumentWork, brand: str, t: Thresholds) -> bool:
    """The document names the declared brand (BRAND_MISMATCH otherwise)."""
    doc = work.ref.file
    field = work.result.fields.get("brand")
    if not trusted(field, t.field_confidence_floor):
        low_confidence(ev, "names_declared_brand", doc, "brand", field, brand)
        return False
    status = _same(brand, field.value, t)
    # A letter may name the brand inside a longer phrase (「鲜果时光」系列): containment counts.
    if status != "same" and names.normalize_name(brand) in names.normalize_name(field.value):
        status = "same"
    if status == "same":
        ev.add(Check(name="names_declared_brand", status="pass", document=doc, expected=brand, found=field.value))
        return True
    clear = status == "different" and field.confidence >= t.reject_confidence
    ev.add(Check(name="names_declared_brand", status="fail" if clear else "review", document=doc, expected=brand,
                 found=field.value, message=f"names the brand {field.value}, not {brand}"), "BRAND_MISMATCH")
    return False


def check_brand_chain(ev: Evaluation, submission: Submission, works: list[DocumentWork], rules: Rules,
                      today: dt.date) -> None:
    t = rules.thresholds
    brand = submission.product.brand or ""
    company = submission.shop.company
    trademarks = [w for w in works if w.doc_type == "trademark_certificate"]
    letters = [w for w in works if w.doc_type == "brand_authorization"]
    for letter in letters:
        _brand_named(ev, letter, brand, t)
    if not trademarks:
        return  # completeness already reports the missing trademark certificate
    matching = [w for w in trademarks if _brand_named(ev, w, brand, t)]
    trademark = matching[0] if matching else None
    if trademark is None:
        return
    doc = trademark.ref.file
    registrant = trademark.result.fields.get("holder_name")
    if not trusted(registrant, t.field_confidence_floor):
        low_confidence(ev, "brand_chain", doc, "registrant (注册人)", registrant, company)
        return
    if _same(registrant.value, company, t) == "same":
        ev.add(Check(name="brand_chain", status="pass", document=doc, expected=company, found=registrant.value,
                     message="the shop company is the trademark registrant"))
        return

    tm_from = _date(trademark.result.fields.get("valid_from"), dt.date.min)
    tm_until = _date(trademark.result.fields.get("valid_until"), FAR_FUTURE)
    current, period = registrant.value, (tm_from, tm_until)
    chain = [registrant.value]
    used: list[DocumentWork] = []
    doubtful = False
    for _level in range(MAX_LEVELS):
        candidates = []
        for letter in letters:
            grantor = letter.result.fields.get("grantor")
            if letter in used or grantor is None:
                continue
            status = _same(current, grantor.value, t)
            if status == "same":
                candidates.insert(0, letter)
            elif status == "near":
                doubtful = True  # one character off: a misread or another company
        if not candidates:
            break
        letter = candidates[0]
        used.append(letter)
        doubtful |= not _check_letter_period(ev, letter, period, today, t)
        grantee = letter.result.fields.get("holder_name")
        if grantee is None:
            low_confidence(ev, "brand_chain", letter.ref.file, "grantee (被授权方)", None, company)
            return
        chain.append(grantee.value)
        period = (_date(letter.result.fields.get("valid_from"), period[0]),
                  _date(letter.result.fields.get("valid_until"), period[1]))
        status = _same(grantee.value, company, t)
        if status == "same":
            ev.add(Check(name="brand_chain", status="pass", document=letter.ref.file, expected=company,
                         found=" → ".join(chain), message=f"{len(used)}-level authorization chain"))
            return
        doubtful |= status == "near"
        current = grantee.value
    names_clear = all(
        (f := w.result.fields.get(k)) is not None and f.confidence >= t.reject_confidence
        for w in used for k in ("grantor", "holder_name")
    )
    reason = ("the letters do not connect the registrant to the shop company" if len(used) < MAX_LEVELS
              else f"more than {MAX_LEVELS} levels of authorization would be needed")
    unread = [w.ref.file for w in letters if w not in used
              and not trusted(w.result.fields.get("grantor"), t.field_confidence_floor)]
    if unread:
        # A letter whose grantor (授权方) was not read may be the missing link: not a clear break.
        doubtful = True
        reason += f"; the grantor of {', '.join(unread)} could not be read"
    status = "fail" if names_clear and not doubtful and letters else "review"
    if not letters:
        status = "fail" if registrant.confidence >= t.reject_confidence else "review"
        reason = f"the registrant is {registrant.value}, not the shop company, and there is no authorization letter"
    ev.add(Check(name="brand_chain", status=status, document=doc, expected=f"{registrant.value} → … → {company}",
                 found=" → ".join(chain), message=reason), "AUTHORIZATION_CHAIN_BROKEN")


def _check_letter_period(ev: Evaluation, letter: DocumentWork, outer: tuple[dt.date, dt.date], today: dt.date,
                         t: Thresholds) -> bool:
    """The letter's period lies inside `outer` and has enough left. False when doubtful."""
    doc = letter.ref.file
    fields = letter.result.fields
    until = fields.get("valid_until")
    if not trusted(until, t.field_confidence_floor):
        low_confidence(ev, "authorization_in_force", doc, "valid_until", until, f">= {today}")
        return False
    start = _date(fields.get("valid_from"), outer[0])
    end = _date(until, FAR_FUTURE)
    if start < outer[0] or end > outer[1]:
        ev.add(Check(name="authorization_period_nested", status="review", document=doc,
                     expected=f"{outer[0]} … {outer[1]}".replace(str(FAR_FUTURE), "long_term"),
                     found=f"{start} … {until.value}",
                     message="the letter's period reaches outside the period it derives from"),
               "AUTHORIZATION_CHAIN_BROKEN")
    else:
        ev.add(Check(name="authorization_period_nested", status="pass", document=doc,
                     found=f"{start} … {until.value}"))
    if end < today:
        clear = until.confidence >= t.reject_confidence
        ev.add(Check(name="authorization_in_force", status="fail" if clear else "review", document=doc,
                     expected=f">= {today}", found=until.value, message=f"品牌授权书 expired on {until.value}"),
               "EXPIRED")
        return clear
    left = (end - today).days if end != FAR_FUTURE else None
    if left is not None and left < t.min_remaining_days:
        ev.add(Check(name="authorization_in_force", status="review", document=doc,
                     expected=f">= {t.min_remaining_days} days left", found=until.value,
                     message=f"品牌授权书 ends on {until.value}: {left} days left, "
                             f"{t.min_remaining_days} required"), "EXPIRED")
        return True
    ev.add(Check(name="authorization_in_force", status="pass", document=doc, expected=f">= {today}",
                 found=until.value))
    return True
