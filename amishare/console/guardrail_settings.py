"""The Allowed AMIs and snapshot block public access settings the Data protection and security
page shows beside block public access for AMIs: read with the API's Get operations as the
signed-in principal, each with who manages it (the account, or a declarative policy)."""

from dataclasses import dataclass

SNAPSHOT_LABELS = {
    "block-all-sharing": "All public sharing blocked",
    "block-new-sharing": "New public sharing blocked",
    "unblocked": "Public sharing allowed",
}
ALLOWED_LABELS = {"enabled": "Enabled", "audit-mode": "Audit mode", "disabled": "Disabled"}
MANAGED_LABELS = {"account": "Account", "declarative-policy": "Declarative policy"}


@dataclass
class Setting:
    label: str | None
    managed_by: str | None
    error: object = None
    criteria: list | None = None


def _setting(outcome, state_key, labels) -> Setting:
    result = outcome.result or {}
    state = result.get(state_key)
    managed = result.get("ManagedBy")
    return Setting(labels.get(state, state), MANAGED_LABELS.get(managed, managed), outcome.error,
                   result.get("ImageCriteria"))


def read(invoke) -> dict:
    """`invoke(operation, params)` -> Outcome; the settings for the page's guardrail sections."""
    return {
        "image_managed_by": MANAGED_LABELS.get((invoke("GetImageBlockPublicAccessState", {}).result or {}).get("ManagedBy")),
        "snapshots": _setting(invoke("GetSnapshotBlockPublicAccessState", {}), "State", SNAPSHOT_LABELS),
        "allowed_images": _setting(invoke("GetAllowedImagesSettings", {}), "State", ALLOWED_LABELS),
    }
