"""Event pattern matching and input transformation, rule by rule, without a server."""

import json

import pytest

from amishare.domain import event_patterns, events
from amishare.errors import AwsError


def match(pattern: dict, event: dict) -> bool:
    return event_patterns.matches(event_patterns.parse(json.dumps(pattern)), event)


def test_numbers_compare_as_numbers_and_strings_as_strings():
    assert match({"n": [5]}, {"n": 5.0})
    assert not match({"n": [5]}, {"n": "5"})
    assert not match({"n": ["5"]}, {"n": 5})
    assert match({"n": [{"numeric": ["=", 3.0]}]}, {"n": 3})
    assert not match({"n": [{"numeric": [">", 0]}]}, {"n": "7"})
    assert not match({"b": [True]}, {"b": 1})
    assert match({"b": [False]}, {"b": False})


def test_arrays_and_nested_objects():
    event = {"detail": {"items": [{"k": "a"}, {"k": "b", "tags": ["x", "y"]}]}}
    assert match({"detail": {"items": {"k": ["b"]}}}, event)
    assert match({"detail": {"items": {"tags": ["y"]}}}, event)
    assert not match({"detail": {"items": {"k": ["c"]}}}, event)
    assert not match({"detail": {"items": ["a"]}}, event)  # an object is not a leaf value


def test_or_nested_inside_fields():
    pattern = {"detail": {"$or": [{"a": [1]}, {"b": [{"exists": True}]}]}, "source": ["s"]}
    assert match(pattern, {"source": "s", "detail": {"a": 1}})
    assert match(pattern, {"source": "s", "detail": {"b": None}})
    assert not match(pattern, {"source": "s", "detail": {"a": 2}})
    assert not match(pattern, {"source": "t", "detail": {"a": 1}})


def test_wildcards():
    assert event_patterns.wildcard_match("ami-*", "ami-123")
    assert event_patterns.wildcard_match("*", "")
    assert event_patterns.wildcard_match("a*b*c", "aXXbYYc")
    assert not event_patterns.wildcard_match("a*b*c", "aXXbYY")
    assert event_patterns.wildcard_match(r"a\*b", "a*b")
    assert not event_patterns.wildcard_match(r"a\*b", "aXb")
    assert not event_patterns.wildcard_match("*a" * 16 + "b", "a" * 100_000)


def test_anything_but_variants():
    assert match({"s": [{"anything-but": {"equals-ignore-case": ["OFF", "Down"]}}]}, {"s": "up"})
    assert not match({"s": [{"anything-but": {"equals-ignore-case": ["OFF", "Down"]}}]}, {"s": "down"})
    assert match({"s": [{"anything-but": {"suffix": ".tmp"}}]}, {"s": "a.txt"})
    assert not match({"s": [{"anything-but": {"wildcard": "test-*"}}]}, {"s": "test-1"})
    assert match({"n": [{"anything-but": [1, 2]}]}, {"n": 3})
    assert not match({"n": [{"anything-but": [1, 2]}]}, {"n": 2.0})


@pytest.mark.parametrize("pattern", [
    {"a": [{"anything-but": ["x", 1]}]},
    {"a": [{"numeric": [">", 5, "<", 1]}]},
    {"a": [{"numeric": ["=", 1, "<", 5]}]},
    {"a": [{"prefix": 5}]},
    {"a": [[1]]},
    {"a": 1},
    {"$or": "x"},
])
def test_bad_patterns(pattern):
    with pytest.raises(AwsError) as exc:
        event_patterns.parse(json.dumps(pattern))
    assert exc.value.code == "InvalidEventPatternException"


def test_nan_and_infinity_are_not_numbers():
    for text in ('{"a": [NaN]}', '{"a": [{"numeric": [">", Infinity]}]}'):
        with pytest.raises(AwsError):
            event_patterns.parse(text)


def test_input_transformer_templates():
    event = {"id": "1", "time": "2026-01-01T00:00:00Z", "detail": {"ImageId": "ami-1", "n": 3,
                                                                 "tags": ["a"], "quote": 'say "hi"'}}
    target = {"InputTransformer": {"InputPathsMap": {"image": "$.detail.ImageId", "n": "$.detail.n",
                                                     "tags": "$.detail.tags", "q": "$.detail.quote",
                                                     "missing": "$.detail.none"},
                                   "InputTemplate": '{"image": "<image>", "n": <n>, "tags": <tags>, "q": "<q>", '
                                                    '"m": <missing>, "rule": "<aws.events.rule-name>"}'}}
    body = json.loads(events.target_input(target, event, "r1", "arn:rule"))
    assert body == {"image": "ami-1", "n": 3, "tags": ["a"], "q": 'say "hi"', "m": None, "rule": "r1"}
    text = events.target_input({"InputTransformer": {"InputPathsMap": {"image": "$.detail.ImageId"},
                                                     "InputTemplate": "Image <image> is ready"}}, event, "r", "a")
    assert text == "Image ami-1 is ready"
    assert json.loads(events.target_input({"InputPath": "$.detail.tags[0]"}, event, "r", "a")) == "a"
    assert events.target_input({"Input": '{"x": 1}'}, event, "r", "a") == '{"x": 1}'
    assert json.loads(events.target_input({}, event, "r", "a")) == event
    assert events.valid_json_path("$.detail.a[0].b") and not events.valid_json_path("detail") \
        and not events.valid_json_path("$..x")
