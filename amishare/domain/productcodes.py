"""AWS Marketplace product codes follow the data: from an image to the volumes launched from
it, from a volume to its snapshots, from a snapshot to its copies and volumes, and from
snapshots to the images registered on them (as RegisterImage documents). So launching a
Marketplace image and snapshotting its volume doesn't yield an image without the code.

Snapshots and volumes store them as a JSON list of {"ProductCodeId", "ProductCodeType"}.
"""

import json


def load(text) -> list[dict]:
    return json.loads(text) if text else []


def dump(codes) -> str | None:
    return json.dumps(codes) if codes else None


def of_image(rows) -> list[dict]:
    return [{"ProductCodeId": r["product_code"], "ProductCodeType": r["product_code_type"]} for r in rows]


def as_image_rows(codes) -> list[dict]:
    return [{"product_code": c["ProductCodeId"], "product_code_type": c["ProductCodeType"]} for c in codes]


def merge(*lists) -> list[dict]:
    merged = {}
    for codes in lists:
        for code in codes or ():
            merged.setdefault(code["ProductCodeId"], code)
    return list(merged.values())
