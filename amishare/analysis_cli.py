"""`amishare explain`, `who-can-launch`, `what-can-launch`, `exposure` and `what-if`: clients
of amishare's access analysis service over its HTTP API, signed with the caller's own AWS
credentials (environment, profile), so they are authorized through IAM like any call."""

import json
import sys

from amishare.models import OWN_MODELS


def client(profile: str | None = None, region: str | None = None, endpoint: str | None = None):
    """A botocore client of the `amishare` service (its model is amishare's own)."""
    import boto3
    import botocore.config

    session = boto3.Session(profile_name=profile, region_name=region)
    session._session.get_component("data_loader").search_paths.insert(0, str(OWN_MODELS))
    config = botocore.config.Config(retries={"max_attempts": 2, "mode": "standard"}, read_timeout=300)
    return session.client("amishare", endpoint_url=endpoint, config=config,
                          region_name=region or session.region_name or "us-east-1")


def _pages(call, key_names, **params):
    """Every page of a paged answer, merged on `key_names`."""
    merged = None
    while True:
        page = call(**params)
        page.pop("ResponseMetadata", None)
        if merged is None:
            merged = page
        else:
            for name in key_names:
                merged.setdefault(name, []).extend(page.get(name) or [])
        token = page.get("NextToken")
        merged.pop("NextToken", None)
        if not token:
            return merged
        params["NextToken"] = token


def _merge_groups(answer):
    groups = {}
    for group in answer.get("Groups") or []:
        found = groups.setdefault(group["Group"], dict(group, Accounts=[]))
        found["Accounts"].extend(group.get("Accounts") or [])
    answer["Groups"] = list(groups.values())
    return answer


# --- tables


def _explain_table(answer) -> str:
    lines = [f"{answer['ImageId']} (owner {answer['OwnerId']}) for {answer['Principal']} in {answer['Region']}"]
    for decision in answer["Decisions"]:
        lines.append(f"\n{decision['Action'].upper()}: {'ALLOWED' if decision['Allowed'] else 'DENIED'}")
        for step in decision["Steps"]:
            mark = "ok " if step["Decision"] == "allowed" else "NO "
            lines.append(f"  {mark} {step['Step']:<20} {step['Detail']}")
            for st in step.get("Statements") or []:
                if st["PolicyType"] == "root user":
                    continue  # the account's root user: nothing to show beyond the step itself
                sid = f" Sid {st['Sid']!r}" if st.get("Sid") else ""
                lines.append(f"        {st['Effect']:<5} {st['PolicyType']} {st['PolicyId']}{sid}")
    return "\n".join(lines)


def _launchers_table(answer) -> str:
    lines = [f"Who can launch {answer['ImageId']}"]
    for group in answer["Groups"]:
        lines.append(f"\n{group['Group']}" + ("  (every account)" if group["Kind"] == "public" else ""))
        lines.extend(f"  {a['AccountId']}" for a in group["Accounts"])
    broken = answer.get("GrantedButCannotLaunch") or []
    if broken:
        lines.append("\nGranted but can't launch")
        lines.extend(f"  {a['AccountId']}  via {a['Group']}: {a['Reason']}" for a in broken)
    return "\n".join(lines)


def _launchable_table(answer) -> str:
    lines = [f"Images {answer['Principal']} can launch"]
    for image in answer["Images"]:
        state = "yes" if image["CanLaunch"] else f"NO: {image['Reason']}"
        lines.append(f"  {image['ImageId']}  {image.get('Name') or '':<30} {image['Through']:<50} {state}")
    return "\n".join(lines)


def _exposure_table(answer) -> str:
    lines = [f"Exposure of account {answer['AccountId']} in {answer['Region']}"]
    lines.extend(f"  {f['Kind']:<32} {f['ResourceId']:<24} {f['Detail']}" for f in answer["Findings"])
    if not answer["Findings"]:
        lines.append("  nothing exposed")
    return "\n".join(lines)


def _what_if_table(answer) -> str:
    lines = [f"If the change were made to {answer['ImageId']}:"]
    for title, key in (("Would gain launch", "Gained"), ("Would lose launch", "Lost")):
        lines.append(f"\n{title}:")
        entries = answer.get(key) or []
        lines.extend(f"  {e['AccountId'] or 'everyone'}  via {e['Group']}" + (f": {e['Reason']}" if e.get("Reason") else "")
                     for e in entries)
        if not entries:
            lines.append("  nobody")
    lines.append(f"\n{answer['Unchanged']} unchanged of {answer['Evaluated']} evaluated"
                 + (" (truncated)" if answer.get("Truncated") else ""))
    return "\n".join(lines)


def _print(args, answer, table) -> int:
    answer.pop("ResponseMetadata", None)
    print(json.dumps(answer, indent=2, default=str) if args.output == "json" else table(answer))
    return 0


def run(args) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        api = client(args.profile, args.region, args.endpoint)
        if args.command == "explain":
            params = {"ImageId": args.image_id}
            if args.principal:
                params["Principal"] = args.principal
            return _print(args, api.explain_image_access(**params), _explain_table)
        if args.command == "who-can-launch":
            answer = _pages(api.list_image_launchers, ("Groups", "GrantedButCannotLaunch"), ImageId=args.image_id,
                            MaxResults=args.page_size)
            return _print(args, _merge_groups(answer), _launchers_table)
        if args.command == "what-can-launch":
            params = {"Scope": args.scope, "MaxResults": args.page_size}
            if args.principal:
                params["Principal"] = args.principal
            return _print(args, _pages(api.list_launchable_images, ("Images",), **params), _launchable_table)
        if args.command == "exposure":
            return _print(args, _pages(api.get_exposure_report, ("Findings",), MaxResults=args.page_size),
                          _exposure_table)
        change = {"Kind": args.change}
        for name in ("UserId", "OrganizationArn", "OrganizationalUnitArn", "AccountId", "DestinationParentId",
                     "KeyId", "PolicyId", "TargetId"):
            value = getattr(args, name)
            if value:
                change[name] = value
        if args.policy_file:
            with open(args.policy_file, encoding="utf-8") as handle:
                change["Policy"] = handle.read()
        return _print(args, api.simulate_access_change(ImageId=args.image_id, Change=change), _what_if_table)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        print(f"error: {error.get('Code')}: {error.get('Message')}", file=sys.stderr)
        return 1
    except (BotoCoreError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def add_commands(commands) -> None:
    def common(parser):
        parser.add_argument("--profile", help="the AWS profile to sign with (default: the usual credential chain)")
        parser.add_argument("--region")
        parser.add_argument("--endpoint", help="the endpoint URL (default: AWS_ENDPOINT_URL or the profile's)")
        parser.add_argument("--output", choices=["table", "json"], default="table")
        parser.set_defaults(run=run)

    explain = commands.add_parser("explain", help="can a principal see, launch and copy an image, and why")
    explain.add_argument("image_id")
    explain.add_argument("--principal", help="an account id or an IAM user or role ARN (default: yourself)")
    common(explain)
    who = commands.add_parser("who-can-launch", help="who can launch your image, and who is granted but can't")
    who.add_argument("image_id")
    who.add_argument("--page-size", type=int, default=100)
    common(who)
    what = commands.add_parser("what-can-launch", help="the images a principal can launch in the Region")
    what.add_argument("--principal")
    what.add_argument("--scope", choices=["shared", "owned", "all"], default="shared")
    what.add_argument("--page-size", type=int, default=100)
    common(what)
    exposure = commands.add_parser("exposure", help="what your account exposes beyond its organization")
    exposure.add_argument("--page-size", type=int, default=100)
    common(exposure)
    what_if = commands.add_parser("what-if", help="who would gain or lose launch if a change were made (writes nothing)")
    what_if.add_argument("image_id")
    what_if.add_argument("--change", required=True, choices=[
        "add-launch-permission", "remove-launch-permission", "make-public", "make-private", "move-account",
        "put-key-policy", "attach-scp", "detach-scp"])
    for flag, dest in (("--user-id", "UserId"), ("--organization-arn", "OrganizationArn"),
                       ("--ou-arn", "OrganizationalUnitArn"), ("--account-id", "AccountId"),
                       ("--destination-parent-id", "DestinationParentId"), ("--key-id", "KeyId"),
                       ("--policy-id", "PolicyId"), ("--target-id", "TargetId")):
        what_if.add_argument(flag, dest=dest)
    what_if.add_argument("--policy-file", help="put-key-policy: the proposed key policy")
    common(what_if)
