import copy
from pathlib import Path

import pytest
import yaml

from lti_tool.policy import (
    DEFAULT_PACK_PATH,
    Consenter,
    LegalBasis,
    PackError,
    Problem,
    Visibility,
    default_pack,
    load_pack,
    parse_pack,
)

PACKS = Path(__file__).parent / "packs"
DEFAULT_TEXT = DEFAULT_PACK_PATH.read_text(encoding="utf-8")
DEFAULT_DOCUMENT = yaml.safe_load(DEFAULT_TEXT)
TEXT = {"nl": "Tekst", "en": "Text"}


def dump(document) -> str:
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False)


def problems_of(mutate) -> list[str]:
    document = copy.deepcopy(DEFAULT_DOCUMENT)
    mutate(document)
    with pytest.raises(PackError) as caught:
        parse_pack(dump(document), "broken.yaml")
    assert str(caught.value) == "\n".join(str(p) for p in caught.value.problems)
    return [str(problem) for problem in caught.value.problems]


def test_default_pack_encodes_rules_g1_to_g4():
    pack = default_pack()
    assert (pack.name, pack.version) == ("Richtlijn opnames onderwijs", "2020.10-1")
    assert pack.source == str(DEFAULT_PACK_PATH)
    assert [rule.id for rule in pack.rules] == ["G1", "G2", "G3", "G4"]
    assert {rule.id: [c.id for c in rule.conditions] for rule in pack.rules} == {
        "G1": ["G1.1", "G1.2", "G1.3"],
        "G2": ["G2.1", "G2.2", "G2.3", "G2.4", "G2.5"],
        "G3": ["G3.1", "G3.2", "G3.3"],
        "G4": ["G4.1", "G4.2", "G4.3", "G4.4"],
    }
    assert {rule.id: rule.legal_basis for rule in pack.rules} == {
        "G1": LegalBasis.LEGAL_TASK,
        "G2": LegalBasis.LEGITIMATE_INTEREST,
        "G3": LegalBasis.CONSENT,
        "G4": LegalBasis.TEACHER_CONSENT,
    }
    assert pack.consent_for == {
        "students": (Consenter.STUDENTS, Consenter.PARENTS_OF_UNDER_16),
        "guests": (Consenter.GUESTS,),
    }
    assert {key: (r.method, r.cite, r.years) for key, r in pack.retention.items()} == {
        "graduation": ("until-graduation", "G1.3", 2),
        "school-year": ("school-year-end", "G2.5", None),
        "consent-period": ("consent-period", "G3.2", 1),
        "test-material": ("years-after-creation", "G4.2", 2),
        "teacher-review": ("yearly-review", "G4.2", None),
    }


def test_every_text_of_the_default_pack_differs_between_nl_and_en():
    pack = default_pack()
    texts = [rule.title for rule in pack.rules] + [rule.summary for rule in pack.rules]
    texts += [c.text for rule in pack.rules for c in rule.conditions]
    texts += [reason.text for case in pack.cases for reason in case.reasons]
    texts += [*pack.legal_bases.values(), *pack.visibility.values(), *pack.consenters.values()]
    texts += [r.text for r in pack.retention.values()]
    texts += [pack.not_covered, pack.privacy_officer]
    assert len(texts) > 60
    for text in texts:
        assert text.nl.strip() and text.en.strip()
        assert text.nl != text.en


def test_text_looks_up_rules_conditions_and_vocabulary():
    pack = default_pack()
    assert pack.text("G2", "en") == "Streaming a lesson live for remote education"
    assert pack.text("G2", "nl") == "Een les live streamen voor onderwijs op afstand"
    assert pack.text("G2.3", "nl-NL") == (
        "Alleen de ingeschreven studenten van deze klas of lesgroep kunnen kijken."
    )
    assert (
        pack.text("G2.3", "de")
        == "Only the enrolled students of this class or lesson group can watch."
    )
    assert pack.text(LegalBasis.CONSENT, "en").startswith("Consent of everyone")
    assert pack.text("class-group", "nl") == pack.text(Visibility.CLASS_GROUP, "nl")
    assert (
        pack.text(Consenter.PARENTS_OF_UNDER_16, "en")
        == "Parents or guardians of students under 16"
    )
    assert pack.text(pack.privacy_officer, "nl").startswith("Neem contact op")
    assert pack.rule("G3").title.en == "Use beyond the class, with consent"
    assert pack.condition("G4.3").when is not None
    for unknown in ("G9", "cohort"):
        with pytest.raises(KeyError):
            pack.text(unknown, "en")
    with pytest.raises(KeyError):
        pack.rule("G1.1")


def test_digest_is_stable_and_tracks_content_not_layout():
    pack = default_pack()
    assert len(pack.digest) == 64
    assert parse_pack(DEFAULT_TEXT, "copy.yaml").digest == pack.digest
    relaid = "# another comment\n" + dump(DEFAULT_DOCUMENT)
    assert parse_pack(relaid, "relaid.yaml").digest == pack.digest
    changed = copy.deepcopy(DEFAULT_DOCUMENT)
    changed["rules"][1]["conditions"][1]["text"]["en"] = "The camera shows the board."
    assert parse_pack(dump(changed), "changed.yaml").digest != pack.digest


def test_a_custom_pack_loads_from_its_file():
    pack = load_pack(PACKS / "minimal.yaml")
    assert (pack.name, pack.version) == ("Minimal test pack", "test-1")
    assert [rule.id for rule in pack.rules] == ["R1"]


def set_in(path, value):
    def mutate(document):
        node = document
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return mutate


def drop(path):
    def mutate(document):
        node = document
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]

    return mutate


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        pytest.param(
            drop(["rules", 2, "conditions", 0, "text", "nl"]),
            ["broken.yaml: rules[2].conditions[0].text.nl: missing"],
            id="missing-nl-text",
        ),
        pytest.param(
            set_in(["rules", 0, "title", "de"], "Aufnahmen"),
            ["broken.yaml: rules[0].title.de: unknown key; expected one of: nl, en"],
            id="unknown-locale",
        ),
        pytest.param(
            set_in(["shared_conditions", 0, "condition"], "G4.9"),
            [
                "broken.yaml: shared_conditions[0].condition: 'G4.9' is not one of: G1.1, G1.2, "
                "G1.3, G2.1, G2.2, G2.3, G2.4, G2.5, G3.1, G3.2, G3.3, G4.1, G4.2, G4.3, G4.4"
            ],
            id="unknown-condition-id",
        ),
        pytest.param(
            set_in(["retention", "graduation", "kind"], "forever"),
            [
                "broken.yaml: retention.graduation.kind: 'forever' is not one of: "
                "school-year-end, years-after-creation, until-graduation, yearly-review, "
                "consent-period"
            ],
            id="bad-retention-kind",
        ),
        pytest.param(
            lambda document: document["rules"].append(
                {**document["rules"][2], "conditions": [{"id": "G3.9", "text": TEXT}]}
            ),
            ["broken.yaml: rules[4].id: 'G3' is already used at rules[2].id"],
            id="duplicate-rule-id",
        ),
        pytest.param(
            set_in(["decisions", 1, "id"], "teacher-test-material"),
            [
                "broken.yaml: decisions[1].id: 'teacher-test-material' is already used at "
                "decisions[0].id"
            ],
            id="duplicate-case-id",
        ),
        pytest.param(
            set_in(["version"], 2020.1),
            ["broken.yaml: version: must be a non-empty string, not a number"],
            id="version-not-a-string",
        ),
        pytest.param(
            set_in(["retention", "test-material", "years"], "two"),
            ["broken.yaml: retention.test-material.years: must be a whole number, not a string"],
            id="years-not-a-number",
        ),
        pytest.param(
            set_in(["retention", "school-year", "years"], 1),
            ["broken.yaml: retention.school-year.years: kind school-year-end takes no years"],
            id="years-where-none-belong",
        ),
        pytest.param(
            set_in(["decisions", 11, "refused"], "yes"),
            ["broken.yaml: decisions[11].refused: must be true (or leave it out and give a rule)"],
            id="refused-not-true",
        ),
        pytest.param(
            set_in(["decisions", 11, "rule"], "G1"),
            ["broken.yaml: decisions[11].rule: not allowed in a refused case"],
            id="refused-with-rule",
        ),
        pytest.param(
            set_in(["decisions", 3, "when", "audience"], "assessed"),
            ["broken.yaml: decisions[3].when.audience: must be a non-empty list, not a string"],
            id="criteria-not-a-list",
        ),
        pytest.param(
            set_in(["decisions", 0, "rulle"], "G4"),
            [
                "broken.yaml: decisions[0].rulle: unknown key; expected one of: id, when, "
                "reasons, rule, refused, consent_of, retention, visibility"
            ],
            id="unknown-key",
        ),
        pytest.param(
            drop(["decisions", 2, "consent_of"]),
            ["broken.yaml: decisions[2].consent_of: missing; G3 rests on consent"],
            id="consent-rule-without-consent",
        ),
        pytest.param(
            set_in(["decisions", 3, "when", "audience"], ["assessed", "class"]),
            [
                "broken.yaml: decisions[4].when: overlaps decisions[3] (assessment-assessed), "
                "e.g. for made=stream, recognisable=students, purpose=assessment, "
                "audience=class, teacher_location=school"
            ],
            id="overlapping-cases",
        ),
        pytest.param(
            set_in(["decisions", 2, "when", "purpose"], ["assessment", "assessment"]),
            ["broken.yaml: decisions[2].when.purpose: lists a value twice"],
            id="value-twice",
        ),
        pytest.param(
            set_in(["decisions", 2, "consent_of"], ["students"]),
            [
                "broken.yaml: decisions[2].consent_of: none of these groups is recognisable "
                "for made=stream, recognisable=guests, purpose=assessment, audience=assessed, "
                "teacher_location=school"
            ],
            id="consent-of-nobody-recognisable",
        ),
        pytest.param(
            set_in(
                ["decisions", 0, "when", "recognisable"],
                {"includes": ["guests"], "excludes": ["guests"]},
            ),
            ["broken.yaml: decisions[0].when.recognisable: includes and excludes share a value"],
            id="includes-and-excludes",
        ),
        pytest.param(
            set_in(["decisions", 0, "visibility"], "everyone"),
            [
                "broken.yaml: decisions[0].visibility: 'everyone' is not one of: "
                "assessed-and-assessors, class-group, intervision-group, consented-audience, "
                "teacher-chosen"
            ],
            id="unknown-visibility",
        ),
        pytest.param(
            set_in(["rules", 0, "conditions", 2, "id"], "G2.9"),
            [
                "broken.yaml: rules[0].conditions[2].id: must be G1.<number>, e.g. G1.1",
                "broken.yaml: retention.graduation.rule: 'G1.3' is not one of: G1.1, G1.2, "
                "G2.9, G2.1, G2.2, G2.3, G2.4, G2.5, G3.1, G3.2, G3.3, G4.1, G4.2, G4.3, G4.4",
            ],
            id="condition-of-another-rule",
        ),
        pytest.param(
            lambda document: document["legal_bases"].pop("consent"),
            ["broken.yaml: rules[2].legal_basis: 'consent' has no text under legal_bases"],
            id="basis-without-text",
        ),
    ],
)
def test_broken_packs_name_file_path_and_problem(mutate, expected):
    assert problems_of(mutate) == expected


def test_an_empty_document_lists_every_missing_section():
    with pytest.raises(PackError) as caught:
        parse_pack("{}", "empty.yaml")
    assert [str(p) for p in caught.value.problems] == [
        f"empty.yaml: {key}: missing"
        for key in (
            "name",
            "version",
            "legal_bases",
            "consenters",
            "consent_for",
            "visibility",
            "rules",
            "retention",
            "decisions",
            "refusal",
        )
    ]


def test_a_file_with_several_problems_lists_them_all():
    path = PACKS / "broken-types.yaml"
    with pytest.raises(PackError) as caught:
        load_pack(path)
    assert caught.value.problems == (
        Problem(str(path), "version", "must be a non-empty string, not a number"),
        Problem(str(path), "legal_bases.teacher-consent.en", "missing"),
        Problem(
            str(path),
            "retention.one-year.kind",
            "'forever' is not one of: school-year-end, years-after-creation, until-graduation, "
            "yearly-review, consent-period",
        ),
        Problem(str(path), "decisions[0].when.made", "must be a non-empty list, not a string"),
    )


def test_yaml_problems_name_the_line():
    path = PACKS / "duplicate-key.yaml"
    with pytest.raises(PackError) as caught:
        load_pack(path)
    assert [str(p) for p in caught.value.problems] == [
        f"{path}: line 3, column 1: key 'name' is given twice"
    ]
    with pytest.raises(PackError, match=r"^bad\.yaml: line 2, column 1: expected ',' or ']'"):
        parse_pack("rules: [1\n", "bad.yaml")
    with pytest.raises(PackError, match=r"^list\.yaml: must be a mapping, not a list$"):
        parse_pack("- 1\n", "list.yaml")


def test_a_missing_file_is_a_pack_error(tmp_path):
    with pytest.raises(PackError, match=r"nope\.yaml: cannot be read"):
        load_pack(tmp_path / "nope.yaml")


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ("[]", "must be a non-empty list, not empty"),
        ("{}", "must be a non-empty list, not a mapping"),
        ("3", "must be a non-empty list, not a number"),
    ],
)
def test_wrong_shapes_say_what_was_found(rules, message):
    with pytest.raises(PackError) as caught:
        parse_pack(f"rules: {rules}\n", "shape.yaml")
    assert f"shape.yaml: rules: {message}" in [str(p) for p in caught.value.problems]


def test_odd_yaml_is_a_pack_error_not_a_crash():
    with pytest.raises(PackError, match=r"^odd\.yaml: line 1, column 3: found unhashable key$"):
        parse_pack("? [a, b]\n: 1\n", "odd.yaml")
