"""The console's pages: routing, sign-in, and each page as the operations it invokes.

Every page that shows or changes something calls `Application.invoke` with a `Call`
for the signed-in principal, exactly as the HTTP API would; the console decides
nothing about who may do what.
"""

import hmac
import re
import secrets
import uuid
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Callable
from urllib.parse import parse_qs, urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape

from amishare.api.frontend import HttpRequest, Response
from amishare.application import Application, Call, Outcome
from amishare.console import ami_actions, ami_insights, guardrail_settings, sessions
from amishare.console.ami_actions import ACTIONS
from amishare.console.image_search import CATALOG, PROPERTIES, SCOPES, Search
from amishare.domain.principal import Principal
from amishare.domain.regions import is_region
from amishare.errors import AwsError
from amishare.models import commercial_regions

PREFIX = "/console"
DEFAULT_REGION = "us-east-1"
PAGE_SIZE = 50
_HERE = Path(__file__).parent
_STATIC = {"console.css": "text/css; charset=utf-8"}

BPA_LABELS = {"block-new-sharing": "New public sharing blocked", "unblocked": "New public sharing allowed"}


@dataclass(frozen=True)
class AmiTab:
    """A tab of the AMI page: its template is ami_tabs/<key>.html; `load(req, image)` gives the
    template the values it needs beyond the image (from the operations it invokes), if any."""

    key: str
    label: str
    load: Callable | None = None


class _Page(Exception):
    """Stop handling and answer with this response."""

    def __init__(self, response: Response):
        self.response = response


class Console:
    def __init__(self, application: Application):
        self.app = application
        self.templates = Environment(loader=FileSystemLoader(str(_HERE / "templates")),
                                     autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)
        # The AMI page's tabs, in order; the first is the default.
        self.ami_tabs = [
            AmiTab("details", "Details"),
            AmiTab("permissions", "Permissions", self._permissions_tab),
            AmiTab("storage", "Storage"),
            AmiTab("tags", "Tags"),
            AmiTab("activity", "Activity", self._activity_tab),
            AmiTab("who-can-launch", "Who can launch", self._launchers_tab),
        ]
        self.routes = [
            ("GET", r"", self.home), ("GET", r"/", self.home),
            ("GET", r"/signin", self.signin_form), ("POST", r"/signin", self.signin),
            ("POST", r"/signout", self.signout),
            ("GET", r"/password", self.password_form), ("POST", r"/password", self.password_post),
            ("GET", r"/ec2/home", self.dashboard),
            ("GET", r"/ec2/amis", self.amis),
            ("GET", r"/ec2/amis/(?P<image_id>ami-[0-9a-f]+)", self.ami),
            ("GET", r"/ec2/amis/(?P<image_id>ami-[0-9a-f]+)/permissions", self.permissions_form),
            ("POST", r"/ec2/amis/(?P<image_id>ami-[0-9a-f]+)/permissions", self.permissions_post),
            ("GET", r"/ec2/amis/(?P<image_id>ami-[0-9a-f]+)/(?P<action>[a-z-]+)", self.action_form),
            ("POST", r"/ec2/amis/(?P<image_id>ami-[0-9a-f]+)/(?P<action>[a-z-]+)", self.action_post),
            ("GET", r"/ec2/snapshots", self.snapshots),
            ("GET", r"/ec2/snapshots/(?P<snapshot_id>snap-[0-9a-f]+)/delete", self.delete_snapshot_form),
            ("POST", r"/ec2/snapshots/(?P<snapshot_id>snap-[0-9a-f]+)/delete", self.delete_snapshot_post),
            ("GET", r"/ec2/ami-catalog", self.catalog),
            ("GET", r"/ec2/instances", self.instances),
            ("GET", r"/ec2/instances/(?P<instance_id>i-[0-9a-f]+)", self.instance),
            ("GET", r"/ec2/instances/(?P<instance_id>i-[0-9a-f]+)/create-image", self.create_image_form),
            ("POST", r"/ec2/instances/(?P<instance_id>i-[0-9a-f]+)/create-image", self.create_image_post),
            ("GET", r"/organizations", self.organizations),
            ("GET", r"/ec2/settings/data-protection", self.data_protection),
            ("GET", r"/ec2/settings/data-protection/block-public-access", self.bpa_form),
            ("POST", r"/ec2/settings/data-protection/block-public-access", self.bpa_post),
        ]

    # --- plumbing

    def handle(self, request: HttpRequest) -> Response:
        path = request.raw_path.split("?", 1)[0][len(PREFIX):]
        if path.startswith("/static/"):
            return self._static(path[len("/static/"):])
        for method, pattern, view in self.routes:
            match = re.fullmatch(pattern, path)
            if match and method == request.method:
                try:
                    return view(_Request(request, self), **match.groupdict())
                except _Page as page:
                    return page.response
        return _html(404, "<!doctype html><title>Not found</title><p>Not found</p>")

    def _static(self, name: str) -> Response:
        if name not in _STATIC:
            return _html(404, "Not found")
        body = (_HERE / "static" / name).read_bytes()
        return Response(200, _STATIC[name], body, "", headers=[("cache-control", "max-age=300")])

    def render(self, req: "_Request", template: str, status: int = 200, headers=(), **values) -> Response:
        values.setdefault("region", req.region)
        values.setdefault("regions", _regions())
        values["principal"] = req.principal
        values["csrf"] = req.session.csrf if req.session else None
        values["path"] = req.path
        values["password_changed"] = req.query.get("password_changed") == "1"
        values["reset_required"] = req.reset_required
        # What the Region selector keeps of the page's address (not its place in the pages).
        values["query"] = [(k, v) for k, vs in req.query_multi.items() for v in vs
                           if k not in ("region", "next_token", "back", "saved", "updated", "password_changed", "deleted")] \
            if req.http.method == "GET" else []
        body = self.templates.get_template(template).render(**values)
        return _html(status, body, list(headers))

    def invoke(self, req: "_Request", operation: str, params: dict, service: str = "ec2",
               region: str | None = None) -> Outcome:
        call = Call(req.principal, region or req.region, service, operation, params, str(uuid.uuid4()),
                    source_ip=req.http.client_ip, user_agent="amishare-console", secure_transport=req.http.secure)
        return self.app.invoke(call)

    # --- sign-in

    def home(self, req):
        req.require_session()
        return _redirect(f"{PREFIX}/ec2/home?region={req.region}")

    def signin_form(self, req, error=None, status=200):
        token = secrets.token_urlsafe(24)
        cookie = _cookie(sessions.LOGIN_COOKIE, token, req.http.secure, max_age=3600)
        next_page = req.query.get("next") or req.form().get("next", "")
        return self.render(req, "signin.html", status, [("set-cookie", cookie)], login_csrf=token, error=error,
                           next_page=next_page)

    def signin(self, req):
        form = req.form()
        expected = req.cookies.get(sessions.LOGIN_COOKIE)
        if not expected or not hmac.compare_digest(expected.encode(), form.get("csrf", "").encode()):
            return self.signin_form(req, "Your sign-in form expired. Sign in again.", 403)
        lifetime = self.app.settings.console_session_seconds
        if form.get("method") == "password":
            principal = self.app.identities.by_password(form.get("account_id", "").strip(),
                                                        form.get("user_name", "").strip(), form.get("password", ""))
            if principal is None:
                return self.signin_form(req, "The account ID, user name or password is not valid.", 401)
            session = sessions.new_session(principal.unique_id, lifetime, "user")
        else:
            access_key_id = form.get("access_key_id", "").strip()
            secret = form.get("secret_access_key", "")
            token = form.get("session_token", "").strip() or None  # temporary credentials (STS)
            identity = self.app.identities.by_access_key(access_key_id, token) if access_key_id else None
            # Compare in constant time; an unknown key compares against a dummy, so both take as long.
            stored = identity.secret if identity is not None else secrets.token_urlsafe(30)
            if not hmac.compare_digest(stored.encode(), secret.encode()) or identity is None or identity.expired:
                return self.signin_form(req, "The access key ID, secret access key or session token is not valid."
                                        if token else "The access key ID or secret access key is not valid.", 401)
            session = sessions.new_session(access_key_id, lifetime, token=token)
        cookie = _cookie(sessions.COOKIE, sessions.seal(self.app.box, session), req.http.secure,
                         max_age=int(lifetime))
        clear = _cookie(sessions.LOGIN_COOKIE, "", req.http.secure, max_age=0)
        target = _local(form.get("next")) or f"{PREFIX}/ec2/home?region={req.region}"
        return _redirect(target, [("set-cookie", cookie), ("set-cookie", clear)])

    def signout(self, req):
        req.require_session(allow_reset=True)
        req.require_csrf(req.form())
        return _redirect(f"{PREFIX}/signin", [("set-cookie", _cookie(sessions.COOKIE, "", req.http.secure, max_age=0))])

    def password_form(self, req, error=None, status=200):
        """Change password: required before anything else when the password must be reset."""
        req.require_session(allow_reset=True)
        policy = self.invoke(req, "GetAccountPasswordPolicy", {}, service="iam")
        return self.render(req, "password.html", status, error=error, forced=req.reset_required,
                           policy=(policy.result or {}).get("PasswordPolicy"), next_page=_local(req.query.get("next")))

    def password_post(self, req):
        req.require_session(allow_reset=True)
        form = req.form()
        req.require_csrf(form)
        if form.get("new_password", "") != form.get("retype_password", ""):
            error = AwsError("PasswordMismatch", "The new passwords don't match.")  # the console's own check
            return self.password_form(req, error, 400)
        outcome = self.invoke(req, "ChangePassword", {"OldPassword": form.get("old_password", ""),
                                                      "NewPassword": form.get("new_password", "")}, service="iam")
        if outcome.error is not None:
            return self.password_form(req, outcome.error, 400)
        target = _local(form.get("next")) or f"{PREFIX}/ec2/home?region={req.region}"
        return _redirect(target + ("&" if "?" in target else "?") + "password_changed=1")

    # --- EC2

    def dashboard(self, req):
        req.require_session()
        return self.render(req, "dashboard.html")

    def amis(self, req):
        req.require_session()
        search = Search.from_query(req.query_multi)
        if req.query.get("property") is not None:  # "Add filter": the canonical, bookmarkable address
            return _redirect(f"{PREFIX}/ec2/amis?region={req.region}&{search.query(token='')}")
        outcome = self.invoke(req, "DescribeImages", search.describe_params(PAGE_SIZE))
        result = outcome.result or {}
        next_token = result.get("NextToken")
        return self.render(req, "amis.html", scopes=SCOPES, properties=PROPERTIES, search=search,
                           images=result.get("Images", []), error=outcome.error,
                           next_page=search.next_page(next_token) if next_token else None,
                           previous_page=search.previous_page(),
                           first_page=search.first_page() if search.token else None)

    def _image(self, req, image_id: str) -> dict:
        outcome = self.invoke(req, "DescribeImages", {"ImageIds": [image_id], "IncludeDisabled": True,
                                                      "IncludeDeprecated": True})
        if outcome.error is not None or not outcome.result.get("Images"):
            raise _Page(self.render(req, "error.html", 404 if outcome.error is None else outcome.error.status,
                                    error=outcome.error, image_id=image_id))
        return outcome.result["Images"][0]

    def _permissions(self, req, image_id: str) -> tuple[list[dict], object]:
        outcome = self.invoke(req, "DescribeImageAttribute", {"ImageId": image_id, "Attribute": "launchPermission"})
        return (outcome.result or {}).get("LaunchPermissions", []), outcome.error

    def ami(self, req, image_id):
        req.require_session()
        image = self._image(req, image_id)
        tab = next((t for t in self.ami_tabs if t.key == req.query.get("tab")), self.ami_tabs[0])
        values = tab.load(req, image) if tab.load is not None else {}
        return self.render(req, "ami.html", image=image, tab=tab.key, tabs=self.ami_tabs,
                           saved=req.query.get("saved") == "1", **values)

    def _permissions_tab(self, req, image: dict) -> dict:
        permissions, error = self._permissions(req, image["ImageId"])
        return {"permissions": permissions, "permissions_error": error}

    def _activity_tab(self, req, image: dict) -> dict:
        return ami_insights.activity(self._invoker(req), image["ImageId"], req.principal.account_id,
                                     req.query.get("next_token"))

    def _launchers_tab(self, req, image: dict) -> dict:
        return ami_insights.launchers(self._invoker(req), image["ImageId"], req.query.get("next_token"),
                                      req.query.get("explain"))

    def _invoker(self, req):
        return lambda operation, params, service: self.invoke(req, operation, params, service=service)

    def permissions_form(self, req, image_id):
        req.require_session()
        image = self._image(req, image_id)
        current, error = self._permissions(req, image_id)
        state = _PermissionState.from_entries(current)
        return self.render(req, "permissions.html", image=image, state=state, error=error)

    def permissions_post(self, req, image_id):
        req.require_session()
        form = req.form_multi()
        req.require_csrf({k: v[0] for k, v in form.items()})
        image = self._image(req, image_id)
        state = _PermissionState.from_form(form)
        action = _one(form, "action")
        if action in ("add_account", "enter"):
            value = _one(form, "new_account").strip()
            if value and value not in state.accounts:
                state.accounts.append(value)
        if action in ("add_org", "enter"):
            value = _one(form, "new_org").strip()
            if value and value not in state.orgs:
                state.orgs.append(value)
        if action == "remove_accounts":
            chosen = set(form.get("selected_account", []))
            state.accounts = [a for a in state.accounts if a not in chosen]
        elif action == "remove_orgs":
            chosen = set(form.get("selected_org", []))
            state.orgs = [o for o in state.orgs if o not in chosen]
        elif action == "save":
            error = self._save_permissions(req, image, state)
            if error is None:
                return _redirect(f"{PREFIX}/ec2/amis/{image_id}?region={req.region}&tab=permissions&saved=1")
            return self.render(req, "permissions.html", 400, image=image, state=state, error=error)
        return self.render(req, "permissions.html", image=image, state=state, error=None)

    def _save_permissions(self, req, image: dict, state: "_PermissionState"):
        """One ModifyImageAttribute with the difference, so a refusal changes nothing; then, if
        asked, create-volume permissions on the image's snapshots for the accounts added."""
        current_entries, error = self._permissions(req, image["ImageId"])
        if error is not None:
            return error
        current = _PermissionState.from_entries(current_entries)
        add, remove = [], []
        if state.public and not current.public:
            add.append({"Group": "all"})
        if current.public and not state.public:
            remove.append({"Group": "all"})
        new_accounts = [a for a in state.accounts if a not in current.accounts]
        add += [{"UserId": a} for a in new_accounts]
        remove += [{"UserId": a} for a in current.accounts if a not in state.accounts]
        for org in state.orgs:
            if org not in current.orgs:
                add.append({_org_key(org): org})
        for org in current.orgs:
            if org not in state.orgs:
                remove.append({_org_key(org): org})
        if add or remove:
            change = {}
            if add:
                change["Add"] = add
            if remove:
                change["Remove"] = remove
            outcome = self.invoke(req, "ModifyImageAttribute", {"ImageId": image["ImageId"], "LaunchPermission": change})
            if outcome.error is not None:
                return outcome.error
        if state.snapshot_permissions and new_accounts:
            for device in image.get("BlockDeviceMappings", []):
                snapshot_id = (device.get("Ebs") or {}).get("SnapshotId")
                if not snapshot_id:
                    continue
                outcome = self.invoke(req, "ModifySnapshotAttribute", {
                    "SnapshotId": snapshot_id, "Attribute": "createVolumePermission",
                    "CreateVolumePermission": {"Add": [{"UserId": a} for a in new_accounts]}})
                if outcome.error is not None:
                    return outcome.error
        return None

    def action_form(self, req, image_id, action):
        req.require_session()
        if action not in ACTIONS:
            return _html(404, "<!doctype html><title>Not found</title><p>Not found</p>")
        image = self._image(req, image_id)
        return self.render(req, "action.html", image=image, action=action, title=ACTIONS[action][0], error=None,
                           done=None, form={}, instance_types=ami_actions.INSTANCE_TYPES)

    def action_post(self, req, image_id, action):
        req.require_session()
        if action not in ACTIONS:
            return _html(404, "<!doctype html><title>Not found</title><p>Not found</p>")
        form = req.form()
        req.require_csrf(form)
        image = self._image(req, image_id)

        def invoke(operation, params, region=None):
            return self.invoke(req, operation, params, region=region)

        outcome, done = ACTIONS[action][1](invoke, image, form, req.region)
        failed = outcome.error is not None
        return self.render(req, "action.html", 400 if failed else 200, image=image, action=action,
                           title=ACTIONS[action][0], error=outcome.error, done=None if failed else done, form=form,
                           instance_types=ami_actions.INSTANCE_TYPES)

    def catalog(self, req):
        """AMI Catalog: Quickstart, My, AWS Marketplace and Community AMIs of the Region, each a
        DescribeImages scope, searched by name, page by page; "Select" launches from one."""
        req.require_session()
        search = Search.from_query(req.query_multi, CATALOG, "tab")
        outcome = self.invoke(req, "DescribeImages", search.describe_params(PAGE_SIZE))
        result = outcome.result or {}
        next_token = result.get("NextToken")
        return self.render(req, "catalog.html", tabs=CATALOG, search=search, images=result.get("Images", []),
                           error=outcome.error, next_page=search.next_page(next_token) if next_token else None,
                           previous_page=search.previous_page(),
                           first_page=search.first_page() if search.token else None)

    # --- instances

    def instances(self, req):
        req.require_session()
        params = {"MaxResults": PAGE_SIZE}
        if req.query.get("next_token"):
            params["NextToken"] = req.query["next_token"]
        outcome = self.invoke(req, "DescribeInstances", params)
        result = outcome.result or {}
        instances = [i for r in result.get("Reservations", []) for i in r["Instances"]]
        return self.render(req, "instances.html", instances=instances, next_token=result.get("NextToken"),
                           paged=bool(req.query.get("next_token")), error=outcome.error)

    def _instance(self, req, instance_id: str) -> dict:
        outcome = self.invoke(req, "DescribeInstances", {"InstanceIds": [instance_id]})
        reservations = (outcome.result or {}).get("Reservations", [])
        if outcome.error is not None or not reservations:
            raise _Page(self.render(req, "error.html", 404 if outcome.error is None else outcome.error.status,
                                    error=outcome.error, message=None if outcome.error else
                                    f"The instance {instance_id} was not found in {req.region}."))
        return reservations[0]["Instances"][0]

    def instance(self, req, instance_id):
        req.require_session()
        return self.render(req, "instance.html", instance=self._instance(req, instance_id))

    def create_image_form(self, req, instance_id):
        req.require_session()
        return self.render(req, "create_image.html", instance=self._instance(req, instance_id), form={}, error=None,
                           created=None)

    def create_image_post(self, req, instance_id):
        """Actions → Image and templates → Create image: one CreateImage."""
        req.require_session()
        form = req.form()
        req.require_csrf(form)
        instance = self._instance(req, instance_id)
        params = {"InstanceId": instance_id, "Name": form.get("name", ""),
                  "NoReboot": form.get("no_reboot") == "on"}
        if form.get("description"):
            params["Description"] = form["description"]
        outcome = self.invoke(req, "CreateImage", params)
        return self.render(req, "create_image.html", 400 if outcome.error else 200, instance=instance, form=form,
                           error=outcome.error, created=(outcome.result or {}).get("ImageId"))

    def snapshots(self, req):
        req.require_session()
        params = {"OwnerIds": ["self"], "MaxResults": PAGE_SIZE}
        if req.query.get("next_token"):
            params["NextToken"] = req.query["next_token"]
        outcome = self.invoke(req, "DescribeSnapshots", params)
        result = outcome.result or {}
        return self.render(req, "snapshots.html", snapshots=result.get("Snapshots", []),
                           next_token=result.get("NextToken"), paged=bool(req.query.get("next_token")),
                           error=outcome.error, deleted=req.query.get("deleted"))

    def delete_snapshot_form(self, req, snapshot_id, error=None, status=200):
        req.require_session()
        return self.render(req, "delete_snapshot.html", status, snapshot_id=snapshot_id, error=error)

    def delete_snapshot_post(self, req, snapshot_id):
        """Actions → Delete snapshot: one DeleteSnapshot."""
        req.require_session()
        form = req.form()
        req.require_csrf(form)
        outcome = self.invoke(req, "DeleteSnapshot", {"SnapshotId": snapshot_id})
        if outcome.error is not None:
            return self.delete_snapshot_form(req, snapshot_id, outcome.error, 400)
        return _redirect(f"{PREFIX}/ec2/snapshots?region={req.region}&deleted={snapshot_id}")

    def organizations(self, req):
        """AWS Organizations → AWS accounts: the organization, then one parent (the root or an OU)
        at a time with its OUs and accounts and their ARNs, which Edit AMI permissions asks for.
        Each part is its own Organizations operation, so a refusal shows beside what was allowed."""
        req.require_session()
        org = self.invoke(req, "DescribeOrganization", {}, service="organizations")
        values = {"org": (org.result or {}).get("Organization"), "org_error": org.error, "org_path": [],
                  "units": [], "accounts": [], "tree_error": None, "parent": None}
        if org.error is not None:
            return self.render(req, "organizations.html", **values)
        parent_id = req.query.get("parent", "")
        if not parent_id:
            roots = self.invoke(req, "ListRoots", {}, service="organizations")
            if roots.error is not None:
                values["tree_error"] = roots.error
                return self.render(req, "organizations.html", **values)
            parent_id = roots.result["Roots"][0]["Id"]
        path, error = self._org_path(req, parent_id)
        if error is not None:
            values["tree_error"] = error
            return self.render(req, "organizations.html", **values)
        values["org_path"], values["parent"] = path, path[-1]
        for key, operation, token_name in (("units", "ListOrganizationalUnitsForParent", "ou_token"),
                                           ("accounts", "ListAccountsForParent", "account_token")):
            params = {"ParentId": parent_id, "MaxResults": 20}
            if req.query.get(token_name):
                params["NextToken"] = req.query[token_name]
            outcome = self.invoke(req, operation, params, service="organizations")
            if outcome.error is not None:
                values["tree_error"] = values["tree_error"] or outcome.error
                continue
            values[key] = outcome.result.get("OrganizationalUnits" if key == "units" else "Accounts", [])
            values[key + "_next"] = outcome.result.get("NextToken")
        values["paged"] = bool(req.query.get("ou_token") or req.query.get("account_token"))
        return self.render(req, "organizations.html", **values)

    def _org_path(self, req, parent_id: str):
        """[root, OU, ..., parent] as {Id, Name, Arn}: ListParents upwards (OUs nest at most five deep)."""
        path, current = [], parent_id
        for _ in range(7):
            if current.startswith("r-"):
                roots = self.invoke(req, "ListRoots", {}, service="organizations")
                if roots.error is not None:
                    return [], roots.error
                # Not this organization's root: the listings below answer with the API's error.
                root = next((r for r in roots.result["Roots"] if r["Id"] == current), {"Id": current})
                return [root] + path, None
            unit = self.invoke(req, "DescribeOrganizationalUnit", {"OrganizationalUnitId": current},
                               service="organizations")
            if unit.error is not None:
                return [], unit.error
            path.insert(0, unit.result["OrganizationalUnit"])
            parents = self.invoke(req, "ListParents", {"ChildId": current}, service="organizations")
            if parents.error is not None:
                return [], parents.error
            current = parents.result["Parents"][0]["Id"]
        return path, None

    def data_protection(self, req):
        req.require_session()
        outcome = self.invoke(req, "GetImageBlockPublicAccessState", {})
        state = (outcome.result or {}).get("ImageBlockPublicAccessState")
        return self.render(req, "data_protection.html", state=state, label=BPA_LABELS.get(state, state),
                           error=outcome.error, updated=req.query.get("updated") == "1",
                           guardrails=guardrail_settings.read(lambda op, params: self.invoke(req, op, params)))

    def bpa_form(self, req):
        req.require_session()
        outcome = self.invoke(req, "GetImageBlockPublicAccessState", {})
        state = (outcome.result or {}).get("ImageBlockPublicAccessState")
        return self.render(req, "bpa_manage.html", blocked=state == "block-new-sharing", confirming=False,
                           error=outcome.error)

    def bpa_post(self, req):
        req.require_session()
        form = req.form()
        req.require_csrf(form)
        block = form.get("block") == "on"
        if block:
            outcome = self.invoke(req, "EnableImageBlockPublicAccess",
                                  {"ImageBlockPublicAccessState": "block-new-sharing"})
        else:
            current = self.invoke(req, "GetImageBlockPublicAccessState", {})
            if current.error is None and current.result.get("ImageBlockPublicAccessState") == "unblocked":
                return _redirect(f"{PREFIX}/ec2/settings/data-protection?region={req.region}&updated=1")
            typed = form.get("confirm_text")
            if typed is None or typed.strip() != "confirm":
                return self.render(req, "bpa_manage.html", 200 if typed is None else 400, blocked=False,
                                   confirming=True, error=None, confirm_error=typed is not None)
            outcome = self.invoke(req, "DisableImageBlockPublicAccess", {})
        if outcome.error is not None:
            return self.render(req, "bpa_manage.html", 400, blocked=block, confirming=False, error=outcome.error)
        return _redirect(f"{PREFIX}/ec2/settings/data-protection?region={req.region}&updated=1")


class _PermissionState:
    """The Edit AMI permissions form: availability, shared accounts and organizations/OUs."""

    def __init__(self, public: bool, accounts: list[str], orgs: list[str], snapshot_permissions: bool = False):
        self.public, self.accounts, self.orgs = public, accounts, orgs
        self.snapshot_permissions = snapshot_permissions

    @classmethod
    def from_entries(cls, entries: list[dict]) -> "_PermissionState":
        public = any(e.get("Group") == "all" for e in entries)
        accounts = [e["UserId"] for e in entries if e.get("UserId")]
        orgs = [e.get("OrganizationArn") or e["OrganizationalUnitArn"] for e in entries
                if e.get("OrganizationArn") or e.get("OrganizationalUnitArn")]
        return cls(public, accounts, orgs)

    @classmethod
    def from_form(cls, form: dict[str, list[str]]) -> "_PermissionState":
        return cls(_one(form, "availability") == "public", list(dict.fromkeys(form.get("account", []))),
                   list(dict.fromkeys(form.get("org", []))), _one(form, "snapshot_permissions") == "on")


class _Request:
    """One console request: its session (if any), principal, Region and form."""

    def __init__(self, http: HttpRequest, console: Console):
        self.http = http
        self.console = console
        self.path = http.raw_path.split("?", 1)[0]
        self.query_multi = parse_qs(http.query_string.decode("utf-8", "replace"))
        self.query = {k: v[0] for k, v in self.query_multi.items()}
        cookies = SimpleCookie()
        try:
            cookies.load(http.headers.get("cookie", ""))
        except Exception:
            pass
        self.cookies = {k: m.value for k, m in cookies.items()}
        region = self.query.get("region") or DEFAULT_REGION
        self.region = region if is_region(region) else DEFAULT_REGION
        self.session = sessions.unseal(console.app.box, self.cookies.get(sessions.COOKIE))
        self.principal: Principal | None = None
        self._form = None
        self.reset_required = False
        if self.session is not None and self.session.kind == "user":
            signed_in = console.app.identities.signed_in_user(self.session.subject)
            if signed_in is not None:
                self.principal, self.reset_required = signed_in
        elif self.session is not None:
            identity = console.app.identities.by_access_key(self.session.subject, self.session.token)
            if identity is not None and not identity.expired:
                self.principal = identity.principal
        if self.principal is None:
            self.session = None

    def require_session(self, allow_reset: bool = False) -> None:
        """Go on only with a session; a user whose password must be reset goes to Change password first."""
        target = self.path + ("?" + self.http.query_string.decode("latin-1") if self.http.query_string else "")
        if self.session is None:
            raise _Page(_redirect(f"{PREFIX}/signin?{urlencode({'next': target})}"))
        if self.reset_required and not allow_reset:
            raise _Page(_redirect(f"{PREFIX}/password?{urlencode({'next': target if self.http.method == 'GET' else ''})}"))

    def require_csrf(self, form: dict) -> None:
        if not self.session.csrf_ok(form.get("csrf")):
            raise _Page(self.console.render(self, "error.html", 403, error=None,
                                            message="The form was not sent by this console session (CSRF token "
                                                    "missing or wrong). Reload the page and try again."))

    def form_multi(self) -> dict[str, list[str]]:
        if self._form is None:
            self._form = parse_qs(self.http.body.decode("utf-8", "replace"), keep_blank_values=True)
            if "region" in self._form and is_region(self._form["region"][0]):
                self.region = self._form["region"][0]
        return self._form

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in self.form_multi().items()}


def _local(target: str | None) -> str:
    """`target` if it is a console page of this server (no open redirect), else ''."""
    if not target or not target.startswith(PREFIX + "/") or target.startswith(PREFIX + "//") or "\\" in target:
        return ""
    return target


def _one(form: dict[str, list[str]], name: str) -> str:
    values = form.get(name)
    return values[0] if values else ""


def _org_key(arn: str) -> str:
    return "OrganizationalUnitArn" if ":ou/" in arn else "OrganizationArn"


def _regions() -> list[str]:
    return sorted(commercial_regions())


def _cookie(name: str, value: str, secure: bool, max_age: int | None = None) -> str:
    parts = [f"{name}={value}", f"Path={PREFIX}", "HttpOnly", "SameSite=Lax"]
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    if secure:
        parts.append("Secure")
    return "; ".join(parts)


def _html(status: int, body: str, headers=None) -> Response:
    headers = list(headers or [])
    headers += [("cache-control", "no-store"), ("x-frame-options", "DENY"), ("x-content-type-options", "nosniff")]
    return Response(status, "text/html; charset=utf-8", body.encode(), "", headers=headers)


def _redirect(location: str, headers=()) -> Response:
    return Response(303, "text/plain", b"", "", headers=[("location", location), *headers])

