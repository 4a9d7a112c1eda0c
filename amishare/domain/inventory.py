"""Importing a real account's inventory, as the aws CLI prints it, with its ids kept:
images (`describe-images`), snapshots (`describe-snapshots`), launch permissions
(`describe-image-attribute --attribute launchPermission`), and the organization's
accounts and OUs (`organizations list-accounts`, `list-organizational-units-for-parent`).

Every record is checked by the rules the API applies (id and name formats, owners,
snapshots under images, launch permission grantees, guardrails, quotas, the OU tree)
before anything is written, and a bad one is refused with an error that names it. The
caller runs an import in one transaction, so a refused import leaves nothing behind.
Importing again updates what the first import made.
"""

import re
import secrets
import string
from dataclasses import dataclass, field

from amishare.domain import accounts, ids, lifecycle, organizations, productcodes, sharing
from amishare.domain.images import IMAGE_COUNT, check_name
from amishare.domain.volumes import check_mapping_count
from amishare.errors import AwsError
from amishare.parsing import parse_timestamp
from amishare.store import accounts as account_store
from amishare.store import images as image_store
from amishare.store import inventory as store
from amishare.store import organizations as org_store
from amishare.store import settings as settings_store

# The order an import runs in, whatever the order of its files: the tree, then what hangs on it.
KINDS = ("organizational-units", "accounts", "snapshots", "images", "launch-permissions")
_TOP_LEVEL = {"Images": "images", "Snapshots": "snapshots", "Accounts": "accounts",
              "OrganizationalUnits": "organizational-units"}
_LABEL = {"images": "Images", "snapshots": "Snapshots", "accounts": "Accounts",
          "organizational-units": "OrganizationalUnits", "launch-permissions": "LaunchPermissions"}
CHUNK = 500
MAX_TAGS = 50
IMAGE_STATES = {"available", "pending", "failed", "disabled"}
SNAPSHOT_STATES = {"completed", "pending", "error"}
_ORG_ARN_RE = re.compile(r"arn:aws:organizations::([0-9]{12}):(account|ou)/(o-[a-z0-9]{10,32})/(.+)")


class InventoryError(ValueError):
    """A file or record that can't be imported; the message names it."""


def detect(document) -> tuple[str, list]:
    """(kind, records) of a parsed aws CLI output, told by its top-level key."""
    if isinstance(document, dict):
        for key, kind in _TOP_LEVEL.items():
            if key in document:
                records = document[key]
                if not isinstance(records, list):
                    raise InventoryError(f"{key} must be a list")
                return kind, records
        if "LaunchPermissions" in document and "ImageId" in document:
            return "launch-permissions", [document]
    if isinstance(document, list) and document and all(
            isinstance(d, dict) and "LaunchPermissions" in d and "ImageId" in d for d in document):
        return "launch-permissions", document
    shown = ", ".join(sorted(document)) if isinstance(document, dict) else type(document).__name__
    raise InventoryError(
        "not an output of describe-images, describe-snapshots, describe-image-attribute --attribute "
        f"launchPermission, list-accounts or list-organizational-units-for-parent (top level: {shown or 'empty'})")


@dataclass
class Tally:
    created: int = 0
    updated: int = 0


@dataclass
class Summary:
    counts: dict = field(default_factory=lambda: {kind: Tally() for kind in KINDS})
    accounts_created: list = field(default_factory=list)

    def as_dict(self) -> dict:
        out = {kind: {"created": t.created, "updated": t.updated} for kind, t in self.counts.items()
               if t.created or t.updated}
        if self.accounts_created:
            out["accounts_created"] = self.accounts_created
        return out


# --- values as the aws CLI prints them


def _field(record, key, fits, kind: str, required: bool):
    value = record.get(key)
    if value is None:
        if required:
            raise InventoryError(f"{key} is missing")
        return None
    if not fits(value):
        raise InventoryError(f"{key} must be {kind}")
    return value


def _text(record, key, required=False):
    return _field(record, key, lambda v: isinstance(v, str), "a string", required)


def _int(record, key, required=False):
    return _field(record, key, lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0,
                  "a whole number", required)


def _bool(record, key):
    return _field(record, key, lambda v: isinstance(v, bool), "true or false", False)


def _time(record, key, default=None):
    value = record.get(key)
    if value is None:
        return default
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    moment = parse_timestamp(value) if isinstance(value, str) else None
    if moment is None:
        raise InventoryError(f"{key} is not a timestamp: {value!r}")
    return moment.timestamp()


def _tag_rows(record, resource_id, resource_type, owner_id, region) -> list[dict]:
    """Tags as given, those AWS itself sets (aws:...) included."""
    given = record.get("Tags") or []
    if not isinstance(given, list):
        raise InventoryError("Tags must be a list")
    pairs: dict[str, str] = {}
    for tag in given:
        key, value = (tag.get("Key"), tag.get("Value", "")) if isinstance(tag, dict) else (None, None)
        if not isinstance(key, str) or not key or not isinstance(value, str):
            raise InventoryError("each tag needs a Key and a string Value")
        pairs[key] = value
    if sum(1 for key in pairs if not key.lower().startswith("aws:")) > MAX_TAGS:
        raise InventoryError(f"more than {MAX_TAGS} tags")
    return [dict(resource_id=resource_id, key=k, value=v, owner_id=owner_id, region=region,
                 resource_type=resource_type) for k, v in pairs.items()]


def _state(record, allowed):
    state = _text(record, "State") or "available"
    if state not in allowed:
        raise InventoryError(f"State {state!r} can't be imported (only {', '.join(sorted(allowed))})")
    return state


class Importer:
    """Imports records into the account and Region of `ctx`, inside its transaction."""

    def __init__(self, ctx, parent_id: str | None = None):
        self.ctx = ctx
        self.conn = ctx.conn
        self.account_id = ctx.account_id
        self.region = ctx.region
        self.parent_id = parent_id
        self.summary = Summary()

    def run(self, kind: str, records: list, source: str, advance=lambda n: None) -> None:
        handler = {"images": self._images, "snapshots": self._snapshots, "launch-permissions": self._permissions,
                   "accounts": self._accounts, "organizational-units": self._units}[kind]
        handler(records, source, advance)

    # --- errors name the record

    @staticmethod
    def _label(source, kind, index, record, key) -> str:
        name = record.get(key) if isinstance(record, dict) else None
        return f"{source}: {_LABEL[kind]}[{index}]" + (f" ({name})" if isinstance(name, str) else "")

    def _checked(self, label, function, *args):
        try:
            if not isinstance(args[0], dict):
                raise InventoryError("a record must be a JSON object")
            return function(*args)
        except InventoryError as exc:
            raise InventoryError(f"{label}: {exc}") from None
        except AwsError as exc:
            raise InventoryError(f"{label}: {exc.message} ({exc.code})") from None

    # --- snapshots

    def _snapshot(self, record) -> tuple[dict, list]:
        snapshot_id = ids.check("snap", _text(record, "SnapshotId", required=True))
        owner = _text(record, "OwnerId") or self.account_id
        if owner != self.account_id:
            raise InventoryError(f"owned by {owner}, not by account {self.account_id} (export with --owner-ids self)")
        state = _state(record, SNAPSHOT_STATES)
        timing = (lifecycle.transition("pending", "completed", self.ctx.now, self.ctx.settings.state_delay)
                  if state == "pending" else lifecycle.fixed(state))
        row = dict(snapshot_id=snapshot_id, region=self.region, owner_id=owner,
                   volume_id=_text(record, "VolumeId") or "vol-ffffffff",
                   volume_size=_int(record, "VolumeSize", required=True), description=_text(record, "Description"),
                   start_time=_time(record, "StartTime", self.ctx.now), encrypted=bool(_bool(record, "Encrypted")),
                   kms_key_id=_text(record, "KmsKeyId"), **timing)
        tag_rows = _tag_rows(record, snapshot_id, "snapshot", owner, self.region)
        store.check_snapshot(row, tag_rows)
        return row, tag_rows

    def _snapshots(self, records, source, advance) -> None:
        seen = set()
        for start in range(0, len(records), CHUNK):
            chunk = records[start:start + CHUNK]
            parsed = [self._checked(self._label(source, "snapshots", start + i, r, "SnapshotId"), self._snapshot, r)
                      for i, r in enumerate(chunk)]
            existing = store.snapshots_by_ids(self.conn, [row["snapshot_id"] for row, _ in parsed])
            new, changed, tag_rows = [], [], []
            for i, (row, tags) in enumerate(parsed):
                label = self._label(source, "snapshots", start + i, chunk[i], "SnapshotId")
                sid = row["snapshot_id"]
                if sid in seen:
                    raise InventoryError(f"{label}: listed twice")
                seen.add(sid)
                old = existing.get(sid)
                if old is None:
                    new.append(dict(row, is_public=False, source_snapshot_id=None, source_region=None,
                                    product_codes=None))
                else:
                    self._check_place(label, "snapshot", old)
                    changed.append(row)
                tag_rows += tags
            store.put_snapshots(self.conn, new, changed)
            store.replace_tags(self.conn, [row["snapshot_id"] for row, _ in parsed], tag_rows)
            self.summary.counts["snapshots"].created += len(new)
            self.summary.counts["snapshots"].updated += len(changed)
            advance(len(chunk))

    def _check_place(self, label, what, old) -> None:
        """An existing image or snapshot with the record's id must be the account's, in this Region."""
        prefix = f"{label}: " if label else ""
        if old["owner_id"] != self.account_id:
            raise InventoryError(f"{prefix}the {what} exists here and belongs to account {old['owner_id']}")
        if old["region"] != self.region:
            raise InventoryError(f"{prefix}the {what} exists here in {old['region']}, not in {self.region}")

    # --- images

    def _image(self, record) -> dict:
        image_id = ids.check("ami", _text(record, "ImageId", required=True))
        owner = _text(record, "OwnerId") or self.account_id
        if owner != self.account_id:
            raise InventoryError(f"owned by {owner}, not by account {self.account_id} (export with --owners self)")
        name = check_name(_text(record, "Name", required=True))
        state = _state(record, IMAGE_STATES)
        timing = (lifecycle.transition("pending", "available", self.ctx.now, self.ctx.settings.state_delay)
                  if state == "pending" else lifecycle.fixed(state))
        location = _text(record, "ImageLocation")
        protection = _text(record, "DeregistrationProtection")
        row = dict(
            image_id=image_id, region=self.region, owner_id=owner, name=name,
            description=_text(record, "Description"), **timing,
            architecture=_text(record, "Architecture") or "x86_64",
            virtualization_type=_text(record, "VirtualizationType") or "hvm",
            root_device_name=_text(record, "RootDeviceName"), root_device_type=_text(record, "RootDeviceType") or "ebs",
            boot_mode=_text(record, "BootMode"), image_type=_text(record, "ImageType") or "machine",
            platform=_text(record, "Platform"), platform_details=_text(record, "PlatformDetails") or "Linux/UNIX",
            usage_operation=_text(record, "UsageOperation") or "RunInstances", kernel_id=_text(record, "KernelId"),
            ramdisk_id=_text(record, "RamdiskId"), ena_support=_bool(record, "EnaSupport"),
            sriov_net_support=_text(record, "SriovNetSupport"), imds_support=_text(record, "ImdsSupport"),
            tpm_support=_text(record, "TpmSupport"),
            image_location=None if location == f"{owner}/{name}" else location,
            created_at=_time(record, "CreationDate", self.ctx.now), deprecation_time=_time(record, "DeprecationTime"),
            is_public=bool(_bool(record, "Public")), disabled=state == "disabled",
            deregistration_protection=None if protection in (None, "disabled") else protection,
            last_launched_at=_time(record, "LastLaunchedTime"), source_image_id=_text(record, "SourceImageId"),
            source_image_region=_text(record, "SourceImageRegion"),
            source_instance_id=_text(record, "SourceInstanceId"),
        )
        mappings = record.get("BlockDeviceMappings") or []
        if not isinstance(mappings, list):
            raise InventoryError("BlockDeviceMappings must be a list")
        check_mapping_count(len(mappings))
        devices = [self._device(image_id, position, m) for position, m in enumerate(mappings)]
        codes = []
        for code in record.get("ProductCodes") or []:
            if not isinstance(code, dict) or not isinstance(code.get("ProductCodeId"), str):
                raise InventoryError("each product code needs a ProductCodeId")
            codes.append(dict(image_id=image_id, product_code=code["ProductCodeId"],
                              product_code_type=code.get("ProductCodeType") or "marketplace"))
        if row["is_public"] and (codes or any(d["encrypted"] for d in devices)):
            raise InventoryError("a public image can't have product codes or encrypted snapshots")
        if row["is_public"] and row["disabled"]:
            raise InventoryError("a disabled image can't be public")
        tag_rows = _tag_rows(record, image_id, "image", owner, self.region)
        store.check_image(row, devices, codes, tag_rows)
        return {"row": row, "devices": devices, "codes": codes, "tags": tag_rows}

    @staticmethod
    def _device(image_id, position, mapping) -> dict:
        if not isinstance(mapping, dict) or not isinstance(mapping.get("DeviceName"), str):
            raise InventoryError("each block device mapping needs a DeviceName")
        ebs = mapping.get("Ebs")
        device = dict(image_id=image_id, position=position, device_name=mapping["DeviceName"],
                      virtual_name=_text(mapping, "VirtualName"), no_device="NoDevice" in mapping, snapshot_id=None,
                      volume_size=None, volume_type=None, iops=None, throughput=None, encrypted=None, kms_key_id=None,
                      delete_on_termination=None)
        if isinstance(ebs, dict):
            snapshot_id = _text(ebs, "SnapshotId")
            device.update(snapshot_id=snapshot_id and ids.check("snap", snapshot_id),
                          volume_size=_int(ebs, "VolumeSize"), volume_type=_text(ebs, "VolumeType") or "gp2",
                          iops=_int(ebs, "Iops"), throughput=_int(ebs, "Throughput"),
                          encrypted=bool(_bool(ebs, "Encrypted")), kms_key_id=_text(ebs, "KmsKeyId"),
                          delete_on_termination=_bool(ebs, "DeleteOnTermination"))
        elif ebs is not None:
            raise InventoryError("Ebs must be an object")
        return device

    def _images(self, records, source, advance) -> None:
        seen_ids, seen_names = set(), {}
        for start in range(0, len(records), CHUNK):
            chunk = records[start:start + CHUNK]
            labels = [self._label(source, "images", start + i, r, "ImageId") for i, r in enumerate(chunk)]
            parsed = [self._checked(label, self._image, r) for label, r in zip(labels, chunk)]
            rows = [p["row"] for p in parsed]
            existing = store.images_by_ids(self.conn, [r["image_id"] for r in rows])
            named = store.image_ids_named(self.conn, self.region, self.account_id, [r["name"] for r in rows])
            new, changed, public_delta = [], [], 0
            for label, row in zip(labels, rows):
                image_id, name = row["image_id"], row["name"]
                if image_id in seen_ids:
                    raise InventoryError(f"{label}: listed twice")
                seen_ids.add(image_id)
                if seen_names.setdefault(name, image_id) != image_id or named.get(name, image_id) != image_id:
                    raise InventoryError(f"{label}: AMI name {name} is already in use by AMI "
                                         f"{seen_names[name] if seen_names[name] != image_id else named[name]}")
                old = existing.get(image_id)
                if old is None:
                    new.append(row)
                    public_delta += row["is_public"]
                else:
                    self._check_place(label, "image", old)
                    changed.append(row)
                    public_delta += int(row["is_public"]) - int(bool(old["is_public"]))
            self._check_image_quotas(len(new), public_delta)
            self._snapshots_under(parsed, labels)
            store.put_images(self.conn, new, changed, [d for p in parsed for d in p["devices"]],
                             [c for p in parsed for c in p["codes"]])
            store.replace_tags(self.conn, [r["image_id"] for r in rows], [t for p in parsed for t in p["tags"]])
            self._count(IMAGE_COUNT, len(new))
            self._count(sharing.PUBLIC_COUNT, public_delta)
            self.summary.counts["images"].created += len(new)
            self.summary.counts["images"].updated += len(changed)
            advance(len(chunk))

    def _check_image_quotas(self, new: int, public_delta: int) -> None:
        settings = self.ctx.settings
        images = settings_store.counter(self.conn, self.account_id, self.region, IMAGE_COUNT) + new
        if images > settings.max_images:
            raise InventoryError(f"the import would make {images} AMIs in {self.region}, over the quota of "
                                 f"{settings.max_images} (AMISHARE_MAX_IMAGES raises it)")
        public = settings_store.counter(self.conn, self.account_id, self.region, sharing.PUBLIC_COUNT) + public_delta
        if public_delta > 0 and public > settings.max_public_images:
            raise InventoryError(f"the import would make {public} public AMIs in {self.region}, over the quota of "
                                 f"{settings.max_public_images} (AMISHARE_MAX_PUBLIC_IMAGES raises it)")

    def _count(self, counter: str, delta: int) -> None:
        if delta:
            settings_store.add_to_counter(self.conn, self.account_id, self.region, counter, delta)

    def _snapshots_under(self, parsed, labels) -> None:
        """Images stand on their owner's snapshots: a mapped snapshot must be the account's, in
        this Region; one not imported (yet) is made from what the mapping says of it."""
        wanted = {d["snapshot_id"]: (label, p, d) for label, p in zip(labels, parsed) for d in p["devices"]
                  if d["snapshot_id"]}
        existing = store.snapshots_by_ids(self.conn, list(wanted))
        made = []
        for snapshot_id, (label, p, device) in wanted.items():
            old = existing.get(snapshot_id)
            if old is not None:
                self._check_place(f"{label}: snapshot {snapshot_id}", "snapshot", old)
                continue
            if device["volume_size"] is None:
                raise InventoryError(f"{label}: snapshot {snapshot_id} is not imported and its mapping has no "
                                     "VolumeSize; import describe-snapshots --owner-ids self too")
            made.append(dict(
                snapshot_id=snapshot_id, region=self.region, owner_id=self.account_id, volume_id="vol-ffffffff",
                volume_size=device["volume_size"], description=f"Imported with {p['row']['image_id']}",
                start_time=p["row"]["created_at"], encrypted=bool(device["encrypted"]),
                kms_key_id=device["kms_key_id"], is_public=False, source_snapshot_id=None, source_region=None,
                product_codes=productcodes.dump([{"ProductCodeId": c["product_code"],
                                                  "ProductCodeType": c["product_code_type"]} for c in p["codes"]]),
                **lifecycle.fixed("completed")))
        store.put_snapshots(self.conn, made, [])
        self.summary.counts["snapshots"].created += len(made)

    # --- launch permissions

    def _permissions(self, records, source, advance) -> None:
        public_delta = 0
        for index, record in enumerate(records):
            label = self._label(source, "launch-permissions", index, record, "ImageId")
            public_delta += self._checked(label, self._permission, record)
            advance(1)
        if public_delta > 0:
            self._check_image_quotas(0, public_delta)

    def _permission(self, record) -> int:
        image_id = ids.check("ami", _text(record, "ImageId", required=True))
        entries = record.get("LaunchPermissions")
        if not isinstance(entries, list):
            raise InventoryError("LaunchPermissions must be a list")
        public, grantees = sharing.parse_permissions(entries)
        image = image_store.get(self.conn, image_id)
        if image is None:
            raise InventoryError("no such image here; import its describe-images output first")
        self._check_place("", "image", image)
        if (public or grantees) and image["disabled"]:
            raise InventoryError("the image is disabled and can't be shared")
        accounts_granted = sum(1 for kind, _ in dict.fromkeys(grantees) if kind == sharing.ACCOUNT)
        if accounts_granted > self.ctx.settings.max_launch_permission_accounts:
            raise InventoryError(f"shared with {accounts_granted} accounts, over the quota of "
                                 f"{self.ctx.settings.max_launch_permission_accounts} (AMISHARE_MAX_SHARED_ACCOUNTS)")
        if public and not image["is_public"]:
            devices = image_store.block_devices(self.conn, [image_id])[image_id]
            if image_store.product_codes(self.conn, [image_id])[image_id] or any(d["encrypted"] for d in devices):
                raise InventoryError("a public image can't have product codes or encrypted snapshots")
        store.replace_launch_permissions(self.conn, image_id, self.region, grantees, self.ctx.now)
        delta = int(public) - int(bool(image["is_public"]))
        if delta:
            store.set_public(self.conn, image_id, public)
            self._count(sharing.PUBLIC_COUNT, delta)
        self.summary.counts["launch-permissions"].updated += 1
        return delta

    # --- the organization: OUs and accounts

    def _org_of(self, record, kind: str) -> tuple[str, str, str]:
        """(management account, organization id, what follows) of a record's Arn."""
        arn = _text(record, "Arn", required=True)
        match = _ORG_ARN_RE.fullmatch(arn)
        if match is None or match[2] != kind:
            raise InventoryError(f"Arn {arn!r} is not the ARN of an Organizations {kind}")
        return match[1], match[3], match[4]

    @staticmethod
    def _path(record, key, org_id, own_id) -> list[str] | None:
        """The ids from the root down to the record's parent, from its Path (or first of Paths)."""
        value = record.get(key)
        if isinstance(value, list):
            value = value[0] if value else None
        if value is None:
            return None
        parts = [p for p in value.split("/") if p] if isinstance(value, str) else []
        if len(parts) < 3 or parts[0] != org_id or parts[-1] != own_id or not parts[1].startswith("r-"):
            raise InventoryError(f"{key} {value!r} is not a path of {own_id} in {org_id}")
        return parts[1:-1]

    def ensure_account(self, account_id, name=None, email=None) -> None:
        if account_store.get_account(self.conn, account_id) is None:
            accounts.create_account(self.conn, self.ctx.secrets, account_id=account_id, name=name, email=email)
            self.summary.accounts_created.append(account_id)

    def _ensure_org(self, org_id, management, root_id=None):
        org = org_store.org_by_id(self.conn, org_id)
        if org is not None:
            if org["management_account_id"] != management:
                raise InventoryError(f"organization {org_id} exists here with management account "
                                     f"{org['management_account_id']}, not {management}")
            if root_id and org["root_id"] != root_id:
                raise InventoryError(f"organization {org_id} exists here with root {org['root_id']}, not {root_id}")
            return org
        member = org_store.membership(self.conn, management)
        if member is not None:
            raise InventoryError(f"account {management} already belongs to organization {member['org_id']}")
        self.ensure_account(management)
        root_id = root_id or "r-" + "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(4))
        now = self.ctx.now
        org_store.insert_org(self.conn, org_id=org_id, management_account_id=management, feature_set="ALL",
                             root_id=root_id, created_at=now)
        org_store.insert_node(self.conn, node_id=root_id, org_id=org_id, kind="root", parent_id=None, name="Root",
                              path=f"{root_id}/", created_at=now)
        account = account_store.get_account(self.conn, management)
        org_store.insert_member(self.conn, account_id=management, org_id=org_id, parent_id=root_id,
                                email=account["email"] or f"account-{management}@example.com",
                                name=account["name"], joined_method="CREATED", joined_at=now)
        return org_store.org_by_id(self.conn, org_id)

    def _parent(self, org, path) -> dict:
        parent_id = (path[-1] if path else None) or self.parent_id or org["root_id"]
        node = org_store.node(self.conn, parent_id)
        if node is None or node["org_id"] != org["org_id"]:
            raise InventoryError(f"the parent {parent_id} is not in organization {org['org_id']} here; "
                                 "import the OUs above it first")
        return node

    def _units(self, records, source, advance) -> None:
        # Parents before children, where the records say where they stand.
        order = sorted(range(len(records)), key=lambda i: str(records[i].get("Path") or "").count("/")
                       if isinstance(records[i], dict) else 0)
        for index in order:
            record = records[index]
            self._checked(self._label(source, "organizational-units", index, record, "Id"), self._unit, record)
            advance(1)

    def _unit(self, record) -> None:
        ou_id = _text(record, "Id", required=True)
        if not organizations.OU_RE.fullmatch(ou_id):
            raise InventoryError(f"Id {ou_id!r} is not an OU id")
        management, org_id, rest = self._org_of(record, "ou")
        if rest != ou_id:
            raise InventoryError(f"Arn names {rest}, not {ou_id}")
        name = _text(record, "Name", required=True)
        if not 1 <= len(name) <= 128:
            raise InventoryError("Name must be 1 to 128 characters")
        path = self._path(record, "Path", org_id, ou_id)
        org = self._ensure_org(org_id, management, "r-" + ou_id.split("-")[1])
        parent = self._parent(org, path)
        existing = org_store.node(self.conn, ou_id)
        same_name = org_store.unit_named(self.conn, parent["node_id"], name)
        if same_name is not None and same_name["node_id"] != ou_id:
            raise InventoryError(f"an OU named {name!r} already exists under {parent['node_id']}")
        tally = self.summary.counts["organizational-units"]
        if existing is not None:
            if existing["org_id"] != org_id or existing["parent_id"] != parent["node_id"]:
                raise InventoryError(f"the OU exists here under {existing['parent_id']}; OUs can't move")
            org_store.update_node(self.conn, ou_id, name=name)
            tally.updated += 1
            return
        if parent["path"].count("ou-") >= organizations.MAX_DEPTH:
            raise InventoryError(f"it would be deeper than {organizations.MAX_DEPTH} OUs")
        org_store.insert_node(self.conn, node_id=ou_id, org_id=org_id, kind="ou", parent_id=parent["node_id"],
                              name=name, path=f"{parent['path']}{ou_id}/", created_at=self.ctx.now)
        organizations._adopt(self.ctx, org_id, ou_id)
        tally.created += 1

    def _accounts(self, records, source, advance) -> None:
        for index, record in enumerate(records):
            self._checked(self._label(source, "accounts", index, record, "Id"), self._account, record)
            advance(1)

    def _account(self, record) -> None:
        account_id = _text(record, "Id", required=True)
        if not ids.is_account_id(account_id):
            raise InventoryError(f"Id {account_id!r} is not a 12-digit account id")
        management, org_id, rest = self._org_of(record, "account")
        if rest != account_id:
            raise InventoryError(f"Arn names {rest}, not {account_id}")
        name = _text(record, "Name") or account_id
        email = _text(record, "Email") or f"account-{account_id}@example.com"
        path = self._path(record, "Paths", org_id, account_id)
        org = self._ensure_org(org_id, management, path[0] if path else None)
        parent = self._parent(org, path) if path or self.parent_id else None
        self.ensure_account(account_id, name, email)
        member = org_store.membership(self.conn, account_id)
        tally = self.summary.counts["accounts"]
        if member is not None:
            if member["org_id"] != org_id:
                raise InventoryError(f"the account belongs to organization {member['org_id']} here")
            values = dict(name=name, email=email)
            if parent is not None:
                values["parent_id"] = parent["node_id"]
            org_store.update_member(self.conn, account_id, **values)
            tally.updated += 1
            return
        org_store.insert_member(self.conn, account_id=account_id, org_id=org_id,
                                parent_id=(parent or self._parent(org, None))["node_id"], email=email, name=name,
                                joined_method=_text(record, "JoinedMethod") or "INVITED",
                                joined_at=_time(record, "JoinedTimestamp", self.ctx.now))
        organizations._adopt(self.ctx, org_id, account_id)
        tally.created += 1
