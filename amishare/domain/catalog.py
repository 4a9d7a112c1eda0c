"""The built-in public images every region offers: Amazon's base images and one
AWS Marketplace image with a product code. Seeded once per database, owned by
system accounts, public through the ordinary `is_public` flag.
"""

import hashlib
import time
from fnmatch import fnmatchcase

from amishare.domain import accounts, productcodes
from amishare.models import commercial_regions
from amishare.store import images as image_store
from amishare.store import settings as settings_store
from amishare.store import snapshots as snapshot_store

AMAZON = "137112412989"
MARKETPLACE = "679593333241"
ALIAS_ACCOUNTS = {"amazon": AMAZON, "aws-marketplace": MARKETPLACE}
CATALOG_VERSION = "2"
MARKETPLACE_PRODUCT_CODE = "8fvb2dpwxzu4mvqp1jn4n8i7u"

# Amazon's public Systems Manager parameters (/aws/service/...) that name the built-in images.
_AL = "/aws/service/ami-amazon-linux-latest/"

BASE_IMAGES = [
    dict(owner=AMAZON, name="al2023-ami-2023.6.20250107.0-kernel-6.1-x86_64",
         description="Amazon Linux 2023 AMI 2023.6.20250107.0 x86_64 HVM kernel-6.1", architecture="x86_64",
         root="/dev/xvda", size=8, boot_mode="uefi-preferred",
         ssm=[_AL + "al2023-ami-kernel-default-x86_64", _AL + "al2023-ami-kernel-6.1-x86_64"]),
    dict(owner=AMAZON, name="al2023-ami-2023.6.20250107.0-kernel-6.1-arm64",
         description="Amazon Linux 2023 AMI 2023.6.20250107.0 arm64 HVM kernel-6.1", architecture="arm64",
         root="/dev/xvda", size=8, boot_mode="uefi",
         ssm=[_AL + "al2023-ami-kernel-default-arm64", _AL + "al2023-ami-kernel-6.1-arm64"]),
    dict(owner=AMAZON, name="amzn2-ami-kernel-5.10-hvm-2.0.20250108.0-x86_64-gp2",
         description="Amazon Linux 2 Kernel 5.10 AMI 2.0.20250108.0 x86_64 HVM gp2", architecture="x86_64",
         root="/dev/xvda", size=8, boot_mode=None, ssm=[_AL + "amzn2-ami-kernel-5.10-hvm-x86_64-gp2"]),
    dict(owner=AMAZON, name="Windows_Server-2022-English-Full-Base-2025.01.15",
         description="Microsoft Windows Server 2022 Full Locale English AMI provided by Amazon",
         architecture="x86_64", root="/dev/sda1", size=30, boot_mode=None, platform="windows",
         platform_details="Windows", usage_operation="RunInstances:0002",
         ssm=["/aws/service/ami-windows-latest/Windows_Server-2022-English-Full-Base"]),
    dict(owner=AMAZON, name="ubuntu-minimal-amazon-eks-node-1.31-v20250115",
         description="EKS Kubernetes Worker AMI for Ubuntu 22.04 (k8s: 1.31)", architecture="x86_64",
         root="/dev/sda1", size=20, boot_mode=None),
    dict(owner=MARKETPLACE, name="cis-hardened-amazon-linux-2023-level-1-v1.2.0-x86_64",
         description="CIS Hardened Image Level 1 on Amazon Linux 2023", architecture="x86_64",
         root="/dev/xvda", size=10, boot_mode="uefi-preferred", product_code=MARKETPLACE_PRODUCT_CODE),
]


# The AWS Free Tier covers Amazon's own base images; no other image here.
FREE_TIER_OWNERS = (AMAZON,)


def free_tier_eligible(owner_id: str) -> bool:
    return owner_id in FREE_TIER_OWNERS


def images_named_by_parameters(patterns) -> list[str]:
    """Names of the built-in images whose public SSM parameter matches one of the patterns
    (`*` and `?` as in every EC2 filter)."""
    return [spec["name"] for spec in BASE_IMAGES
            if any(fnmatchcase(p, pattern) for p in spec.get("ssm", ()) for pattern in patterns)]


def _stable_id(prefix: str, *parts: str) -> str:
    return f"{prefix}-" + hashlib.sha256("/".join(parts).encode()).hexdigest()[:17]


def ensure(conn) -> None:
    if settings_store.get_meta(conn, "catalog_version") == CATALOG_VERSION:
        return
    accounts.ensure_system_account(conn, AMAZON, "Amazon", "amazon")
    accounts.ensure_system_account(conn, MARKETPLACE, "AWS Marketplace", "aws-marketplace")
    created = float(int(time.time()) // 86400 * 86400)
    for region in sorted(commercial_regions()):
        for spec in BASE_IMAGES:
            _seed(conn, region, spec, created)
            _restrict(conn, region, spec)
    settings_store.put_meta(conn, "catalog_version", CATALOG_VERSION)
    settings_store.put_meta(conn, "catalog_seeded_at", str(time.time()))


def _snapshot_public(spec: dict) -> bool:
    """Amazon's base snapshots can be read by everyone (so their images can be copied); a
    Marketplace product's storage is its seller's alone: buyers launch the image, and can't
    restore or copy its snapshot, which would bypass the product code."""
    return not spec.get("product_code")


def _snapshot_codes(spec: dict) -> str | None:
    code = spec.get("product_code")
    return productcodes.dump([{"ProductCodeId": code, "ProductCodeType": "marketplace"}] if code else [])


def _restrict(conn, region: str, spec: dict) -> None:
    """Databases seeded by an earlier catalog made every snapshot public; close the ones that
    must not be."""
    if _snapshot_public(spec):
        return
    snapshot_id = _stable_id("snap", region, spec["name"])
    snapshot_store.update_snapshot(conn, snapshot_id, is_public=False, product_codes=_snapshot_codes(spec))
    snapshot_store.clear_permissions(conn, snapshot_id)


def _seed(conn, region: str, spec: dict, created: float) -> None:
    image_id = _stable_id("ami", region, spec["name"])
    if image_store.get(conn, image_id) is not None:
        return
    snapshot_id = _stable_id("snap", region, spec["name"])
    snapshot_store.insert_snapshot(
        conn, snapshot_id=snapshot_id, region=region, owner_id=spec["owner"], volume_id="vol-ffffffff",
        volume_size=spec["size"], description=f"Snapshot of {spec['name']}", state="completed", next_state=None,
        next_state_at=None, start_time=created, encrypted=False, kms_key_id=None, is_public=_snapshot_public(spec),
        source_snapshot_id=None, source_region=None, product_codes=_snapshot_codes(spec),
    )
    codes = [{"product_code": spec["product_code"], "product_code_type": "marketplace"}] if spec.get("product_code") else []
    row = dict(
        image_id=image_id, region=region, owner_id=spec["owner"], name=spec["name"], description=spec["description"],
        state="available", next_state=None, next_state_at=None, architecture=spec["architecture"],
        virtualization_type="hvm", root_device_name=spec["root"], root_device_type="ebs",
        boot_mode=spec["boot_mode"], image_type="machine", platform=spec.get("platform"),
        platform_details=spec.get("platform_details", "Linux/UNIX"),
        usage_operation=spec.get("usage_operation", "RunInstances"), kernel_id=None, ramdisk_id=None,
        ena_support=True, sriov_net_support="simple", imds_support="v2.0" if spec["owner"] == AMAZON else None,
        tpm_support=None, image_location=f"{'amazon' if spec['owner'] == AMAZON else 'aws-marketplace'}/{spec['name']}",
        created_at=created, deprecation_time=created + 2 * 365 * 86400, is_public=True, disabled=False,
        deregistration_protection=None, last_launched_at=None, source_image_id=None, source_image_region=None,
        source_instance_id=None,
    )
    device = dict(device_name=spec["root"], virtual_name=None, no_device=False, snapshot_id=snapshot_id,
                  volume_size=spec["size"], volume_type="gp3" if spec["owner"] == AMAZON else "gp2", iops=None,
                  throughput=None, encrypted=False, kms_key_id=None, delete_on_termination=True)
    image_store.insert_image(conn, row, [device], codes)
