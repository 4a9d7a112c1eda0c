"""The EBS encryption keys a volume, snapshot or image refers to.

With Encrypted=true and no KmsKeyId, EBS uses the account's AWS managed key
(alias/aws/ebs), one per account and Region, created on first use.
"""

from amishare.domain import kms


def default_ebs_key_arn(ctx) -> str:
    return f"arn:aws:kms:{ctx.region}:{ctx.account_id}:key/{kms.ensure_ebs_key(ctx, ctx.account_id, ctx.region)}"


def existing_default_ebs_key_arn(ctx, account_id: str, region: str) -> str | None:
    return kms.existing_ebs_key_arn(ctx, account_id, region)


def resolve(ctx, encrypted: bool, kms_key_id: str | None) -> str | None:
    return kms.ebs_key_arn(ctx, encrypted, kms_key_id)


def check_use(ctx, key_arn: str | None, image_id: str | None = None) -> None:
    if key_arn:
        kms.check_ebs_use(ctx, key_arn, image_id)
