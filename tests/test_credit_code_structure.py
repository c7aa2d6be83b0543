"""Credit codes that pass the final check character but break GB 32100 / GB 11714 (issue 11, item 7)."""

import json
from pathlib import Path

import pytest

from validators import credit_code

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "submissions"


def _fixture_codes() -> list[str]:
    codes = set()
    for path in FIXTURES.glob("*/expected.json"):
        for doc in json.loads(path.read_text(encoding="utf-8")).get("documents", {}).values():
            if "credit_code" in doc.get("fields", {}):
                codes.add(doc["fields"]["credit_code"])
    return sorted(codes)


@pytest.mark.parametrize("code", ["91110000600037341L", "91330100716105852F", "9144030071526726XG",
                                  "91440300708461136T"])
def test_real_world_codes_have_no_structure_problem(code):
    assert credit_code.structure_problems(code) == []


def test_every_fixture_code_is_well_structured():
    codes = [c for c in _fixture_codes() if credit_code.is_valid(c)]  # one case plants a bad check character
    assert len(codes) > 30
    assert {c: credit_code.structure_problems(c) for c in codes if credit_code.structure_problems(c)} == {}


def test_resident_id_digits_that_pass_the_final_check_are_caught():
    number = "110101199003071238"  # 18 digits: passes uscc's 18th character, not a credit code
    assert credit_code.is_valid(number)
    problems = credit_code.structure_problems(number)
    assert len(problems) == 1 and "GB 11714" in problems[0]


def test_authority_and_category_must_pair():
    # authority 9 (市场监管) has categories 1-3 only; 99… with a right final check character
    body = "99330106MA2H3B4C"
    body += credit_code.organisation_check_char(body[8:16])
    number = body + credit_code.calc_check_digit(body)
    assert credit_code.is_valid(number)
    problems = credit_code.structure_problems(number)
    assert len(problems) == 1 and "authority 9 has no entity category 9" in problems[0]


@pytest.mark.parametrize("junk", [None, "", "123", "91110000600037341X"])
def test_structure_problems_never_raises(junk):
    problems = credit_code.structure_problems(junk)
    assert problems and isinstance(problems[0], str)


def test_organisation_check_char_known_value():
    # GB 11714-1997 example-style: D2143569 → X? compute by the rule and compare with the letters' values
    assert credit_code.organisation_check_char("60003734") == "1"  # 91110000600037341L's own code
