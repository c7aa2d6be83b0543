"""Tests for the identifier validators: credit_code, registration_number, id_number."""

from __future__ import annotations

import importlib
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest
from stdnum.cn import ric, uscc
from stdnum.exceptions import (
    InvalidChecksum,
    InvalidComponent,
    InvalidFormat,
    InvalidLength,
    ValidationError,
)
from stdnum.iso7064 import mod_11_10

import validators
from validators import credit_code, id_number, registration_number

JUNK = [None, "", " ", "😀", "ＡＢＣ", "0" * 40, 12345, "\x00", b"91110000600037341L", ["9"], 3.14]


def _with_check(module, body: str) -> str:
    return body + module.calc_check_digit(body)


# ---------------------------------------------------------------- interface / packaging


@pytest.mark.parametrize("module", validators.IDENTIFIER_MODULES, ids=lambda m: m.__name__)
@pytest.mark.parametrize("junk", JUNK, ids=repr)
def test_junk_input_is_invalid_and_raises_validation_error(module, junk):
    assert module.is_valid(junk) is False
    with pytest.raises(ValidationError):
        module.validate(junk)


def test_identifier_modules_list_is_complete():
    """Every module of the package with a stdnum-style interface is covered by the junk test."""
    found = set()
    for info in pkgutil.iter_modules(validators.__path__):
        mod = importlib.import_module(f"validators.{info.name}")
        if all(hasattr(mod, f) for f in ("compact", "validate", "is_valid", "format")):
            found.add(mod)
    assert found == set(validators.IDENTIFIER_MODULES)


@pytest.mark.parametrize("module", validators.IDENTIFIER_MODULES, ids=lambda m: m.__name__)
def test_module_docstring_and_api(module):
    assert module.__doc__ and len(module.__doc__) > 200
    for name in ("compact", "validate", "is_valid", "format"):
        assert callable(getattr(module, name)), name
    if module in validators.LICENCE_NUMBER_MODULES:
        # No published check algorithm (or none at all), so no calc_check_digit; a SEARCH regex instead.
        assert isinstance(module.SEARCH, re.Pattern) and "number" in module.SEARCH.groupindex
    else:
        assert callable(module.calc_check_digit)


def test_package_does_not_import_pipeline_or_extractors():
    root = Path(validators.__file__).parent
    for path in root.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        for banned in ("pipeline", "extractors"):
            assert f"import {banned}" not in text and f"from {banned}" not in text, path
    code = (
        "import sys, validators; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('pipeline', 'extractors')]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root.parent)


@pytest.mark.parametrize(
    ("module", "text", "expected"),
    [
        (credit_code, "９１１１ ００００－６０００３７３４１ｌ", "91110000600037341L"),
        (credit_code, " 9111-0000 6000 3734 1l\u200b", "91110000600037341L"),
        (registration_number, "４４０３０７ ８１４４３１９１６", "440307814431916"),
        (registration_number, "440307-81443191-6", "440307814431916"),
        (id_number, "１１０１０５　１９４９１２３１　００２ｘ", "11010519491231002X"),
    ],
)
def test_compact_full_width_spaces_hyphens_case(module, text, expected):
    assert module.compact(text) == expected
    assert module.validate(text) == expected
    assert module.format(text) == expected
    assert module.is_valid(text) is True


# ---------------------------------------------------------------- credit_code

CREDIT_CODES_VALID = [
    "91110000600037341L",  # stdnum's doctest
    "91330100716105852F",
    "9144030071526726XG",
    "91440300708461136T",
    "91330106MA2H3B4C5L",  # SPEC.md example
]


def _generated_credit_codes() -> list[str]:
    bodies = [
        "91330106MA2H3B4C5",  # 企业
        "92440300L12345678",  # 个体工商户
        "93330106MA28XYQ0W",  # 农民专业合作社
        "12100000400000624",  # 机构编制 / 事业单位
        "51110000500020163",  # 民政 / 社会团体
        "N2330106MF0123456",  # 农业 / 村级集体经济组织 (stdnum rejects the letter)
        "A1110000MB1234567",  # 中央军委改革和编制办公室
        "Y1440300MC0000001",  # 其他
    ]
    return [_with_check(credit_code, b) for b in bodies]


@pytest.mark.parametrize("number", CREDIT_CODES_VALID + _generated_credit_codes())
def test_credit_code_valid(number):
    assert credit_code.validate(number) == number
    assert credit_code.is_valid(number)
    assert credit_code.is_valid(number.lower())


def test_credit_code_check_char_comes_from_stdnum():
    for number in CREDIT_CODES_VALID:
        assert credit_code.calc_check_digit(number) == uscc.calc_check_digit(number) == number[-1]
        assert uscc.is_valid(number)  # digit-first codes: same answer as stdnum


def test_credit_code_accepts_letter_authorities_that_stdnum_rejects():
    code = _with_check(credit_code, "N2330106MF0123456")
    assert credit_code.is_valid(code)
    assert not uscc.is_valid(code)


@pytest.mark.parametrize(
    ("number", "exc"),
    [
        ("91110000600037341M", InvalidChecksum),
        ("91110000600037341", InvalidLength),
        ("911100006000373411L", InvalidLength),
        ("91110000600O37341L", InvalidFormat),  # O is not in the alphabet
        ("9111000060003734IL", InvalidFormat),  # I
        ("91110000V00037341L", InvalidFormat),  # V
        ("911100006000373,1L", InvalidFormat),
        (_with_check(credit_code, "91A10000600037341"), InvalidFormat),  # region must be digits
        (_with_check(credit_code, "01110000600037341"), InvalidComponent),  # authority 0
        (_with_check(credit_code, "B1110000600037341"), InvalidComponent),  # authority B
        (_with_check(credit_code, "90110000600037341"), InvalidComponent),  # category 0
        (_with_check(credit_code, "9A110000600037341"), InvalidComponent),  # category letter
    ],
)
def test_credit_code_invalid(number, exc):
    with pytest.raises(exc):
        credit_code.validate(number)
    assert credit_code.is_valid(number) is False


def test_credit_code_every_single_substitution_is_caught():
    number = CREDIT_CODES_VALID[0]
    for i in range(18):
        for c in credit_code.ALPHABET:
            if c != number[i]:
                assert not credit_code.is_valid(number[:i] + c + number[i + 1:]), (i, c)


def test_credit_code_exceptions_have_messages():
    with pytest.raises(InvalidFormat, match="position 12"):
        credit_code.validate("91110000600O37341L")


# ---------------------------------------------------------------- credit_code.repair


def test_repair_valid_code_is_unchanged():
    r = credit_code.repair("91110000600037341L")
    assert r.value == r.original == "91110000600037341L"
    assert r.changes == []
    assert r.candidates == ["91110000600037341L"]
    assert not r.repaired


def test_repair_single_o_for_zero():
    r = credit_code.repair("91110000600O37341L")
    assert r.value == "91110000600037341L"
    assert r.original == "91110000600O37341L"
    assert r.changes == [(11, "O", "0")]
    assert r.candidates == ["91110000600037341L"]
    assert r.repaired


def test_repair_several_forced_letters():
    # I, Z, S can never appear; each is forced back to its digit.
    r = credit_code.repair("9I1I0000600037341L")
    assert r.value == "91110000600037341L"
    assert r.changes == [(1, "I", "1"), (3, "I", "1")]
    r = credit_code.repair("913301O6MA2H3B4C5L")
    assert r.value == "91330106MA2H3B4C5L"
    assert r.changes == [(6, "O", "0")]


def test_repair_b_and_8():
    # 8 read where the code has B (a valid character, so only the check character shows the error)
    r = credit_code.repair("91330106MA2H384C5L")
    assert r.value == "91330106MA2H3B4C5L"
    assert r.changes == [(13, "8", "B")]


def test_repair_full_width_input():
    r = credit_code.repair("９１１１００００６００Ｏ３７３４１Ｌ")
    assert r.value == "91110000600037341L"
    assert r.changes == [(11, "O", "0")]


def test_repair_ambiguous_gives_no_value():
    read = "91330106AG30C818FB"
    assert not credit_code.is_valid(read)
    r = credit_code.repair(read)
    assert r.value is None
    assert r.changes == []
    assert r.candidates == ["91330106AG30C818F8", "91330106AG30C81BFB"]
    assert all(credit_code.is_valid(c) for c in r.candidates)


def test_repair_no_candidate():
    r = credit_code.repair("91110000600037341M")  # wrong check char, nothing confusable helps
    assert r.value is None and r.candidates == []


def test_repair_gives_up_when_too_many_confusable_positions():
    # 7 positions where O could be 0: over the limit, no search
    read = "9111OOOO6OOO37341L"
    assert credit_code.MAX_CONFUSABLE_POSITIONS < 7
    r = credit_code.repair(read)
    assert r.value is None and r.candidates == []
    assert r.original == read


@pytest.mark.parametrize("junk", JUNK, ids=repr)
def test_repair_never_raises(junk):
    r = credit_code.repair(junk)
    assert r.value is None
    assert isinstance(r.original, str)


def test_repair_is_frozen():
    r = credit_code.repair("91110000600O37341L")
    with pytest.raises(Exception):  # noqa: B017 - pydantic raises ValidationError
        r.value = "x"


# ---------------------------------------------------------------- registration_number

REGISTRATION_NUMBERS_REAL = ["440307814431916", "440400000213043", "440306105795294"]


@pytest.mark.parametrize(
    "number",
    REGISTRATION_NUMBERS_REAL
    + [_with_check(registration_number, b) for b in ("10000000001234", "33010600012345", "65010040000001")],
)
def test_registration_number_valid(number):
    assert registration_number.validate(number) == number
    assert registration_number.is_valid(number)
    assert mod_11_10.is_valid(number)


def test_registration_number_check_digit_from_stdnum():
    for number in REGISTRATION_NUMBERS_REAL:
        assert registration_number.calc_check_digit(number[:14]) == mod_11_10.calc_check_digit(number[:14])
        assert registration_number.calc_check_digit(number[:14]) == number[-1]


@pytest.mark.parametrize(
    ("number", "kind"),
    [
        ("440307814431916", "individual"),
        ("440400000213043", "domestic_enterprise"),
        ("440306105795294", "domestic_enterprise"),
        (_with_check(registration_number, "44030040000001"), "foreign_enterprise"),
    ],
)
def test_registration_number_entity_kind(number, kind):
    assert registration_number.get_entity_kind(number) == kind


@pytest.mark.parametrize(
    ("number", "exc"),
    [
        ("440307814431917", InvalidChecksum),
        ("440307814431961", InvalidChecksum),  # transposition
        ("44030781443191", InvalidLength),
        ("4403078144319160", InvalidLength),
        ("44030781443191X", InvalidFormat),
        ("4403O7814431916", InvalidFormat),
        (_with_check(registration_number, "99030781443191"), InvalidComponent),
        (_with_check(registration_number, "71030781443191"), InvalidComponent),  # Taiwan code
        (_with_check(registration_number, "00000000000000"), InvalidComponent),
    ],
)
def test_registration_number_invalid(number, exc):
    with pytest.raises(exc):
        registration_number.validate(number)
    assert not registration_number.is_valid(number)


def test_registration_number_every_single_digit_error_is_caught():
    for number in REGISTRATION_NUMBERS_REAL:
        for i in range(15):
            for d in "0123456789":
                if d != number[i]:
                    wrong = number[:i] + d + number[i + 1:]
                    assert not registration_number.is_valid(wrong), wrong


# ---------------------------------------------------------------- id_number

ID_NUMBERS_VALID = [
    "11010519491231002X",  # GB 11643-1999 example
    "360426199101010071",  # stdnum's doctest
    "440307199001011232",  # county created 1992, holder born 1990: stdnum rejects it, we accept
]


def _generated_ids() -> list[str]:
    bodies = ["44030519850615123", "33010620000229456", "65010219991231001", "11010119000101001"]
    return [_with_check(id_number, b) for b in bodies]


@pytest.mark.parametrize("number", ID_NUMBERS_VALID + _generated_ids())
def test_id_number_valid(number):
    assert id_number.validate(number) == number
    assert id_number.is_valid(number)
    assert id_number.calc_check_digit(number) == number[-1]


def test_id_number_check_char_matches_stdnum():
    for number in ID_NUMBERS_VALID + _generated_ids():
        assert ric.calc_check_digit(number) == number[-1]


def test_id_number_county_created_after_birth_is_accepted():
    number = "440307199001011232"
    with pytest.raises(InvalidComponent):
        ric.validate(number)  # documents stdnum's stricter (wrong for this case) behaviour
    assert id_number.validate(number) == number


def test_id_number_lower_case_x():
    assert id_number.validate("11010519491231002x") == "11010519491231002X"


def test_id_number_fields():
    import datetime

    assert id_number.get_birth_date("11010519491231002X") == datetime.date(1949, 12, 31)
    assert id_number.get_gender("11010519491231002X") == "female"
    assert id_number.get_gender("360426199101010071") == "male"
    assert id_number.get_birth_place("11010519491231002X") == {"province": "北京市", "county": "朝阳区"}


@pytest.mark.parametrize(
    ("number", "exc"),
    [
        ("110105194912310021", InvalidChecksum),
        ("11010519491231002", InvalidLength),
        ("110105491231002", InvalidLength),  # old 15-digit number
        ("11010519491231002A", InvalidFormat),
        ("1101051949123100X2", InvalidFormat),
        ("11O10519491231002X", InvalidFormat),
        (_with_check(id_number, "11010519490230002"), InvalidComponent),  # 30 February
        (_with_check(id_number, "11010519491301002"), InvalidComponent),  # month 13
        (_with_check(id_number, "11010520990101002"), InvalidComponent),  # born in the future
        (_with_check(id_number, "99010519491231002"), InvalidComponent),  # no province 99
    ],
)
def test_id_number_invalid(number, exc):
    with pytest.raises(exc):
        id_number.validate(number)
    assert not id_number.is_valid(number)
