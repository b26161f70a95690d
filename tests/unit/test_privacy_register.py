"""The register of processing (GDPR art. 30) comes from the pack: one row per rule, each
with purpose, basis, categories of people, audience and erasure period, in Dutch or English."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from lti_tool.policy import DEFAULT_PACK_PATH, default_pack, load_pack, parse_pack
from lti_tool.privacy.register import COLUMNS, register_csv, register_json, register_rows

MINIMAL = Path(__file__).parent / "packs" / "minimal.yaml"


def test_one_row_per_rule_with_what_article_30_asks() -> None:
    rows = {r.rule: r for r in register_rows(default_pack(), "en")}
    assert list(rows) == ["G1", "G2", "G3", "G4"]
    g1, g2, g3, g4 = rows["G1"], rows["G2"], rows["G3"], rows["G4"]
    assert g1.legal_basis == "legal-task" and "6(1)(e)" in g1.legal_basis_text
    assert g1.erasure_rules == ("G1.3",) and "graduates" in g1.erasure_period[0]
    assert g1.audience_values == ("assessed", "class", "intervision")
    assert g2.legal_basis == "legitimate-interest" and g2.erasure_rules == ("G2.5",)
    assert g2.audience_values == ("class",)
    assert g3.legal_basis == "consent"
    assert "Parents or guardians of students under 16" in g3.consent_from
    assert g3.audience == ("Only the audience that consent was given for",)
    # G4: only the teacher (and guests they involve); never students
    assert g4.categories_of_people == ("teachers", "guests and other staff")
    assert len(g4.erasure_period) == 2  # test material 2 years; instruction reviewed yearly
    assert all(r.purpose and r.title for r in rows.values())


def test_the_register_is_in_the_readers_language() -> None:
    nl = {r.rule: r for r in register_rows(default_pack(), "nl")}
    assert nl["G2"].erasure_period == ("Verwijderd aan het eind van het lopende schooljaar.",)
    assert "studenten" in nl["G1"].categories_of_people


def test_an_institutions_own_pack_gives_its_own_register() -> None:
    pack = load_pack(MINIMAL)
    rows = register_rows(pack, "en")
    assert [r.rule for r in rows] == [rule.id for rule in pack.rules]
    data = register_json(pack, "en", "2027-03-15")
    assert data["pack"] == {"name": pack.name, "version": pack.version, "digest": pack.digest}


def test_csv_has_a_header_and_one_line_per_rule() -> None:
    parsed = list(csv.reader(io.StringIO(register_csv(default_pack(), "en"))))
    assert tuple(parsed[0]) == COLUMNS and len(parsed) == 5
    g3 = dict(zip(COLUMNS, parsed[3], strict=True))
    assert g3["rule"] == "G3" and "; " in g3["consent_from"]


def test_csv_cells_never_start_a_formula() -> None:
    """A pack an institution uploads could hold a title a spreadsheet would run."""
    content = DEFAULT_PACK_PATH.read_text(encoding="utf-8").replace(
        "en: Recordings for assessing students", 'en: "=HYPERLINK(\\"http://x\\")"'
    )
    pack = parse_pack(content, "school.yaml")
    assert pack.rule("G1").title.get("en").startswith("=")
    rows = list(csv.reader(io.StringIO(register_csv(pack, "en"))))[1:]
    assert rows[0][1] == "'" + pack.rule("G1").title.get("en")
    assert all(cell[:1] not in "=+@" for row in rows for cell in row if cell)
