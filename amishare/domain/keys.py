"""The EBS encryption keys a volume, snapshot or image refers to.

With Encrypted=true and no KmsKeyId, EBS uses the account's AWS managed key
(alias/aws/ebs), one per account and region, created on first use.
"""

import uuid

from amishare.store import settings as store

SETTING = "aws-managed-ebs-key"


def default_ebs_key_arn(ctx) -> str:
    row = store.get_setting(ctx.conn, ctx.account_id, ctx.region, SETTING)
    if row is not None:
        return row["value"]
    arn = f"arn:aws:kms:{ctx.region}:{ctx.account_id}:key/{uuid.uuid4()}"
    store.put_setting(ctx.conn, ctx.account_id, ctx.region, SETTING, arn)
    return arn


def existing_default_ebs_key_arn(ctx, account_id: str, region: str) -> str | None:
    row = store.get_setting(ctx.conn, account_id, region, SETTING)
    return row["value"] if row is not None else None


def resolve(ctx, encrypted: bool, kms_key_id: str | None) -> str | None:
    if not encrypted:
        return None
    if kms_key_id:
        if kms_key_id.startswith("arn:"):
            return kms_key_id
        return f"arn:aws:kms:{ctx.region}:{ctx.account_id}:{kms_key_id if kms_key_id.startswith('alias/') else 'key/' + kms_key_id}"
    return default_ebs_key_arn(ctx)
