"""The policy pack's rules as pure functions: (resource type, inputs[, name]) -> violation messages.

`policy/__main__.py` wraps each `Rule` in a `ResourceValidationPolicy` (mandatory); tests and the
offline-synth check call the same functions on hand-written inputs and on `resources.json`. Nothing
here imports `pulumi_policy`: the pack's `args` are duck-typed in `policy_validation`.

How secrets look to a rule — the one place where the two callers differ:
- In `resources.json` (offline synth) a secret input is the string "[secret]" (`SECRET_MARKER`), so
  "this credential is not a secret Output" is decidable: any other non-empty value is a literal.
- In the live pack, pulumi-policy hands validators the *plaintext* of secret inputs, with no marker
  (pulumi_policy.deserialize strips the secret wrapper in validation; pulumi/pulumi-policy#163, #241).
  A validator cannot tell `Output.secret(token)` from a literal "glc_...". So the live pack
  (`secrets_visible=False`) can only refuse what plaintext gives away — well-known placeholder
  values such as "changeme" — and the "must be a secret Output" half is enforced in CI, where the
  synth test runs every rule with `secrets_visible=True` on every stack that synthesizes.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeGuard

from builders.grafana_cloud import ALLOWED_COLLECTOR_SCOPES

SECRET_MARKER = "[secret]"  # how tools.synth writes a secret input

Props = Mapping[str, Any]
Check = Callable[[str, Props, str], list[str]]

K8S_SECRET = "kubernetes:core/v1:Secret"
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
HELM_CHART_V4 = "kubernetes:helm.sh/v4:Chart"
AWS_SECRET_VERSION = "aws:secretsmanager/secretVersion:SecretVersion"
IAM_ROLE = "aws:iam/role:Role"
IAM_POLICY_TYPES = frozenset(
    {
        "aws:iam/policy:Policy",
        "aws:iam/rolePolicy:RolePolicy",
        "aws:iam/userPolicy:UserPolicy",
        "aws:iam/groupPolicy:GroupPolicy",
    }
)
ACCESS_POLICY = "grafana:cloud/accessPolicy:AccessPolicy"


def _label(resource_type: str, props: Props, name: str) -> str:
    """`<Type> '<name>'`, the name being the logical name, else the one in the inputs."""
    short = resource_type.rsplit(":", 1)[-1]
    if not name:
        metadata = props.get("metadata")
        name = str(
            (metadata.get("name") if isinstance(metadata, Mapping) else None)
            or props.get("name")
            or props.get("chart")
            or "?"
        )
    return f"{short} {name!r}"


def _is_map(value: Any) -> TypeGuard[Mapping[str, Any]]:
    return isinstance(value, Mapping)


def _is_list(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str | bytes)


def _dig(value: Any, *path: str) -> Any:
    for key in path:
        if not _is_map(value):
            return None
        value = value.get(key)
    return value


# --- (a) credentials: Kubernetes Secrets, Secrets Manager values, Helm values ----------------------

_CREDENTIAL = re.compile(
    r"password|passwd|passphrase|secret|token|apikey|accesskey|privatekey|credential|authorization|bearer"
    r"|dockerconfigjson|tlskey"
)
# Keys that name where a credential is, not the credential: passwordKey / password_key (a key in a
# Secret), existingSecret, secretName, secretRef, tokenFile, passwordFrom (an Alloy expression), ...
_REFERENCE = re.compile(
    r"^existing"
    r"|(name|names|ref|keyref|namespace|path|file|from|enabled|create|embed|type|mount|mountpath)$"
    r"|(password|passwd|username|user|token|apikey|secret|secrets|credential|credentials|bearertoken)key$"
)
# Values that are never a real credential, whoever wrote them (checked on plaintext, live too).
_PLACEHOLDER = re.compile(
    r"^(change[-_ ]?me|changeit|password|passw0rd|secret|token|apikey|api[-_]key|admin|test|example"
    r"|dummy|placeholder|todo|fixme|tbd|replace[-_ ]?me|x+|\*+|0+|<[^>]*>|\$\{[^}]*\}|\{\{[^}]*\}\})$",
    re.IGNORECASE,
)


def _normalized(key: str) -> str:
    return re.sub(r"[^a-z0-9]", "", key.lower())


def is_credential_key(key: str) -> bool:
    """A key whose value would be a credential (TOKEN, API_KEY, password, ...), not a reference to one."""
    normalized = _normalized(key)
    return bool(_CREDENTIAL.search(normalized)) and not _REFERENCE.search(normalized)


def _decoded(value: str) -> str:
    try:
        return base64.b64decode(value, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return value


def _literal_problem(value: Any, *, secrets_visible: bool, base64_encoded: bool = False) -> str | None:
    """Why `value` is a literal credential, or None. Non-strings and empty strings are no credential."""
    if not isinstance(value, str) or not value.strip() or value == SECRET_MARKER:
        return None
    plain = _decoded(value) if base64_encoded else value
    if _PLACEHOLDER.match(plain.strip()):
        return "is a placeholder value"
    if secrets_visible:
        return "is a plain (non-secret) value"
    return None  # live: plaintext of a secret Output and a literal look the same


def _credential_leaves(value: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """(path, value) of each scalar under a credential-looking key, at any depth of maps and lists."""
    if _is_map(value):
        for key, sub in value.items():
            here = (*path, str(key))
            if is_credential_key(str(key)) and not (_is_map(sub) or _is_list(sub)):
                yield here, sub
            else:
                yield from _credential_leaves(sub, here)
    elif _is_list(value):
        for index, sub in enumerate(value):
            yield from _credential_leaves(sub, (*path, str(index)))


def literal_credentials(
    resource_type: str, props: Props, name: str = "", *, secrets_visible: bool = True
) -> list[str]:
    """No credential as a literal in a Secret, a Secrets Manager value or a Helm release's values.

    Kubernetes Secret: every `data`/`stringData` key that looks like a credential must come from a
    secret Output. Helm values: a credential-looking key (password, token, apiKey, ...) must not
    carry a value at all — point the chart at a Secret instead (`passwordKey`, `existingSecret`,
    `secret.name` are references and fine). Secrets Manager: the whole `secretString` must be secret.
    """
    label = _label(resource_type, props, name)
    found: list[str] = []
    if resource_type == K8S_SECRET:
        for field, encoded in (("data", True), ("stringData", False)):
            entries = props.get(field)
            if not _is_map(entries):
                continue  # absent, or a whole map that is "[secret]"
            for key, value in entries.items():
                if not is_credential_key(str(key)):
                    continue
                problem = _literal_problem(value, secrets_visible=secrets_visible, base64_encoded=encoded)
                if problem:
                    found.append(
                        f"{label}: {field}.{key} {problem}; build it from a secret Output "
                        "(config.require_secret / Output.secret), never a literal in code"
                    )
    elif resource_type in (HELM_RELEASE, HELM_CHART_V4):
        for path, value in _credential_leaves(props.get("values")):
            problem = _literal_problem(value, secrets_visible=secrets_visible)
            if problem:
                found.append(
                    f"{label}: values.{'.'.join(path)} {problem}; Helm keeps values in the release "
                    "Secret and `helm get values` prints them — reference a Kubernetes Secret instead "
                    "(e.g. secret.name + auth.passwordKey)"
                )
    elif resource_type == AWS_SECRET_VERSION:
        value = props.get("secretString")
        if secrets_visible:
            problem = _literal_problem(value, secrets_visible=True)
            if problem:
                found.append(f"{label}: secretString {problem}; build it from secret Outputs")
        elif isinstance(value, str):
            try:
                document: Any = json.loads(value)
            except ValueError:
                document = {"secretString": value}
            for path, leaf in _credential_leaves(document if _is_map(document) else {}):
                if _literal_problem(leaf, secrets_visible=False):
                    found.append(f"{label}: secretString {'.'.join(path)} is a placeholder value")
    return found


# --- (b) IRSA / web-identity trust policies -------------------------------------------------------

AUDIENCE = "sts.amazonaws.com"
_WEB_IDENTITY = "sts:assumerolewithwebidentity"


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if _is_list(value) else [value]


def _document(value: Any) -> tuple[Mapping[str, Any] | None, str | None]:
    """A policy document from a JSON string or a map: (document, None) or (None, problem)."""
    if value == SECRET_MARKER:
        return (
            None,
            "is a secret, so it cannot be checked; IAM documents are no secrets, build it from plain values",
        )
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as err:
            return None, f"is not valid JSON ({err})"
    if not _is_map(value):
        return None, f"is not a policy document ({type(value).__name__})"
    return value, None


def _statements(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [s for s in _as_list(document.get("Statement")) if _is_map(s)]


def _action_matches(pattern: str, action: str) -> bool:
    regex = "^" + re.escape(pattern.lower()).replace(r"\*", ".*").replace(r"\?", ".") + "$"
    return re.match(regex, action) is not None


def _issuer(statement: Mapping[str, Any]) -> str | None:
    for federated in _as_list(_dig(statement, "Principal", "Federated")):
        if isinstance(federated, str) and ":oidc-provider/" in federated:
            return federated.split(":oidc-provider/", 1)[1]
    return None


def web_identity_trust(resource_type: str, props: Props, name: str = "") -> list[str]:
    """A role that trusts a web identity (IRSA, GitHub OIDC) pins both `<issuer>:sub` and `<issuer>:aud`.

    Each Allow statement granting sts:AssumeRoleWithWebIdentity needs a StringEquals condition on
    `<issuer>:aud` = sts.amazonaws.com and on `<issuer>:sub` with exact subjects (no wildcards; on
    an EKS issuer `system:serviceaccount:<namespace>:<serviceaccount>`). Without `sub` any service
    account in the cluster (or any repository) could assume the role.
    """
    if resource_type != IAM_ROLE:
        return []
    label = _label(resource_type, props, name)
    document, problem = _document(props.get("assumeRolePolicy"))
    if document is None:
        return [f"{label}: assumeRolePolicy {problem}"]
    found = []
    for index, statement in enumerate(_statements(document)):
        actions = [a.lower() for a in _as_list(statement.get("Action")) if isinstance(a, str)]
        if statement.get("Effect") != "Allow" or not any(_action_matches(a, _WEB_IDENTITY) for a in actions):
            continue
        where = f"{label}: assumeRolePolicy Statement[{index}]"
        issuer = _issuer(statement)
        if issuer is None:
            found.append(
                f"{where}: Principal.Federated must be an OIDC provider ARN (…:oidc-provider/<issuer>)"
            )
            continue
        equals = _dig(statement, "Condition", "StringEquals")
        equals = equals if _is_map(equals) else {}
        subs = [s for s in _as_list(equals.get(f"{issuer}:sub")) if isinstance(s, str)]
        auds = [a for a in _as_list(equals.get(f"{issuer}:aud")) if isinstance(a, str)]
        if not subs:
            found.append(
                f"{where}: add Condition.StringEquals['{issuer}:sub'] = "
                "'system:serviceaccount:<namespace>:<serviceaccount>' (the one subject allowed)"
            )
        for sub in subs:
            if "*" in sub or "?" in sub or not sub:
                found.append(f"{where}: {issuer}:sub {sub!r} must be an exact subject, without wildcards")
            elif "oidc.eks." in issuer and not re.fullmatch(r"system:serviceaccount:[^:]+:[^:]+", sub):
                found.append(
                    f"{where}: {issuer}:sub {sub!r} must be system:serviceaccount:<namespace>:<name>"
                )
        if auds != [AUDIENCE]:
            found.append(
                f"{where}: add Condition.StringEquals['{issuer}:aud'] = '{AUDIENCE}' (got {auds or 'none'})"
            )
    return found


# --- (c) least-privilege IAM policies -------------------------------------------------------------

# Actions that support no resource-level permissions, so "Resource": "*" is the only valid form.
# Source: the Service Authorization Reference, where the action's "Resource types" column is empty:
# https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatch.html
# https://docs.aws.amazon.com/service-authorization/latest/reference/list_resourcegroupstaggingapi.html
# https://docs.aws.amazon.com/service-authorization/latest/reference/list_identityandaccessmanagement.html
# Add an action only after checking its row there.
RESOURCE_WILDCARD_ONLY_ACTIONS = frozenset(
    {
        "cloudwatch:getmetricdata",
        "cloudwatch:getmetricstatistics",
        "cloudwatch:listmetrics",
        "iam:listaccountaliases",
        "tag:getresources",
    }
)


def _policy_documents(resource_type: str, props: Props) -> Iterator[tuple[str, Any]]:
    if resource_type in IAM_POLICY_TYPES:
        yield "policy", props.get("policy")
    elif resource_type == IAM_ROLE:
        for index, inline in enumerate(_as_list(props.get("inlinePolicies"))):
            if _is_map(inline) and inline.get("policy") is not None:
                yield f"inlinePolicies[{index}].policy", inline.get("policy")


def least_privilege(resource_type: str, props: Props, name: str = "") -> list[str]:
    """Allow statements name exact actions and, where the action allows it, exact resources.

    Refused: an action containing `*` (`*`, `s3:*`, `s3:Get*`), NotAction / NotResource in an Allow,
    and `"Resource": "*"` unless every action of the statement is one that only accepts `*`
    (`RESOURCE_WILDCARD_ONLY_ACTIONS`).
    """
    label = _label(resource_type, props, name)
    found = []
    for field, raw in _policy_documents(resource_type, props):
        document, problem = _document(raw)
        if document is None:
            found.append(f"{label}: {field} {problem}")
            continue
        for index, statement in enumerate(_statements(document)):
            if statement.get("Effect") != "Allow":
                continue
            where = f"{label}: {field} Statement[{index}]"
            for negated in ("NotAction", "NotResource"):
                if negated in statement:
                    found.append(
                        f"{where}: {negated} in an Allow grants everything else; list what is allowed"
                    )
            actions = [a for a in _as_list(statement.get("Action")) if isinstance(a, str)]
            wild = [a for a in actions if "*" in a or "?" in a]
            if wild:
                found.append(f"{where}: wildcard action(s) {wild}; name each action the workload calls")
            resources = _as_list(statement.get("Resource"))
            if "*" in resources:
                needing_arn = sorted(a for a in actions if a.lower() not in RESOURCE_WILDCARD_ONLY_ACTIONS)
                if needing_arn:
                    found.append(
                        f"{where}: Resource '*' for {needing_arn}, which accept resource ARNs; "
                        "name the ARNs (only actions without resource-level permissions may use '*')"
                    )
    return found


# --- (d) Helm chart versions ----------------------------------------------------------------------

_EXACT_VERSION = re.compile(r"^\d+\.\d+\.\d+$")


def pinned_chart_version(resource_type: str, props: Props, name: str = "") -> list[str]:
    """A Helm release pins its chart to an exact MAJOR.MINOR.PATCH version (no range, no `latest`)."""
    if resource_type not in (HELM_RELEASE, HELM_CHART_V4):
        return []
    version = props.get("version")
    if isinstance(version, str) and _EXACT_VERSION.match(version.strip()):
        return []
    chart = props.get("chart", "?")
    shown = "no version" if version in (None, "") else f"version {version!r}"
    return [
        f"{_label(resource_type, props, name)}: chart {chart!r} has {shown}; pin an exact MAJOR.MINOR.PATCH "
        "version (a range or `latest` changes what is deployed without a code change)"
    ]


# --- (e) resource requests and limits -------------------------------------------------------------

_POD_TEMPLATE = ("spec", "template", "spec")
POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    "kubernetes:core/v1:Pod": ("spec",),
    "kubernetes:core/v1:PodPatch": ("spec",),
    **{
        f"kubernetes:apps/v1:{kind}{patch}": _POD_TEMPLATE
        for kind in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet")
        for patch in ("", "Patch")
    },
    "kubernetes:batch/v1:Job": _POD_TEMPLATE,
    "kubernetes:batch/v1:JobPatch": _POD_TEMPLATE,
    "kubernetes:batch/v1:CronJob": ("spec", "jobTemplate", *_POD_TEMPLATE),
    "kubernetes:batch/v1:CronJobPatch": ("spec", "jobTemplate", *_POD_TEMPLATE),
}
REQUIRED_RESOURCES = (("requests", "cpu"), ("requests", "memory"), ("limits", "cpu"), ("limits", "memory"))
# Where a k8s-monitoring telemetry service takes its container resources, when not at `resources`.
TELEMETRY_RESOURCES: dict[str, tuple[str, ...]] = {"opencost": ("opencost", "exporter", "resources")}


def missing_resources(resources: Any) -> list[str]:
    """Which of requests/limits for cpu and memory `resources` lacks."""
    return [
        f"{kind}.{name}" for kind, name in REQUIRED_RESOURCES if _dig(resources, kind, name) in (None, "")
    ]


def _is_k8s_monitoring(props: Props) -> bool:
    chart = props.get("chart")
    return isinstance(chart, str) and re.split(r"[/:]", chart.removesuffix(".tgz"))[-1] == "k8s-monitoring"


def _k8s_monitoring_workloads(values: Any) -> Iterator[tuple[str, Any]]:
    """(values path, resources) of each workload the k8s-monitoring values deploy."""
    collectors = _dig(values, "collectors")
    for collector, block in collectors.items() if _is_map(collectors) else []:
        yield f"collectors.{collector}.alloy.resources", _dig(block, "alloy", "resources")
    services = _dig(values, "telemetryServices")
    for service, block in services.items() if _is_map(services) else []:
        if _is_map(block) and block.get("deploy") is True:
            path = TELEMETRY_RESOURCES.get(service, ("resources",))
            yield f"telemetryServices.{service}.{'.'.join(path)}", _dig(block, *path)
    operator = _dig(values, "alloy-operator")
    if _dig(operator, "deploy") is not False:  # the chart deploys the Alloy Operator by default
        yield "alloy-operator.resources", _dig(operator, "resources")


def container_resources(resource_type: str, props: Props, name: str = "") -> list[str]:
    """Containers (with an image) and k8s-monitoring workloads set cpu/memory requests and limits."""
    label = _label(resource_type, props, name)
    found = []
    if resource_type in POD_SPEC_PATHS:
        pod = _dig(props, *POD_SPEC_PATHS[resource_type])
        for field in ("initContainers", "containers"):
            for index, container in enumerate(_as_list(_dig(pod, field))):
                if not _is_map(container) or not container.get("image"):
                    continue  # a patch that only adds env to a container defined elsewhere
                missing = missing_resources(container.get("resources"))
                if missing:
                    who = container.get("name") or f"{field}[{index}]"
                    found.append(f"{label}: container {who!r} has no resources {', '.join(missing)}")
    elif resource_type in (HELM_RELEASE, HELM_CHART_V4) and _is_k8s_monitoring(props):
        for path, resources in _k8s_monitoring_workloads(props.get("values")):
            missing = missing_resources(resources)
            if missing:
                found.append(f"{label}: values.{path} lacks {', '.join(missing)}")
    return found


# --- (f) Grafana Cloud access-policy scopes -------------------------------------------------------


def collector_scopes(resource_type: str, props: Props, name: str = "") -> list[str]:
    """A Grafana Cloud access policy grants only the collectors' write scopes (ALLOWED_COLLECTOR_SCOPES)."""
    if resource_type != ACCESS_POLICY:
        return []
    scopes = [s for s in _as_list(props.get("scopes")) if isinstance(s, str)]
    extra = sorted(set(scopes) - set(ALLOWED_COLLECTOR_SCOPES))
    if not extra:
        return []
    return [
        f"{_label(resource_type, props, name)}: scopes {extra} are beyond {list(ALLOWED_COLLECTOR_SCOPES)}; "
        "the collectors' token only writes telemetry"
    ]


# --- the pack's rule list -------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """One policy of the pack. `check` sees secrets as "[secret]" (synth); `live_check` as plaintext."""

    name: str
    description: str
    resource_types: frozenset[str]
    check: Check
    live_check: Check

    def violations(
        self, resource_type: str, props: Props, name: str = "", *, live: bool = False
    ) -> list[str]:
        if resource_type not in self.resource_types:
            return []
        return (self.live_check if live else self.check)(resource_type, props, name)


def _rule(
    name: str, description: str, types: frozenset[str] | set[str], check: Check, live: Check | None = None
) -> Rule:
    return Rule(name, description, frozenset(types), check, live or check)


RULES: tuple[Rule, ...] = (
    _rule(
        "no-literal-credentials",
        "Credentials in Secrets, Secrets Manager values and Helm values are secret Outputs, never literals.",
        {K8S_SECRET, HELM_RELEASE, HELM_CHART_V4, AWS_SECRET_VERSION},
        literal_credentials,
        partial(literal_credentials, secrets_visible=False),
    ),
    _rule(
        "web-identity-trust-pins-sub-and-aud",
        "Roles assumed with a web identity (IRSA) pin <issuer>:sub and <issuer>:aud with StringEquals.",
        {IAM_ROLE},
        web_identity_trust,
    ),
    _rule(
        "iam-least-privilege",
        "IAM policies name exact actions, and exact resources wherever the action supports them.",
        IAM_POLICY_TYPES | {IAM_ROLE},
        least_privilege,
    ),
    _rule(
        "helm-chart-version-pinned",
        "Helm releases pin an exact MAJOR.MINOR.PATCH chart version.",
        {HELM_RELEASE, HELM_CHART_V4},
        pinned_chart_version,
    ),
    _rule(
        "containers-have-requests-and-limits",
        "Containers and k8s-monitoring workloads set cpu and memory requests and limits.",
        set(POD_SPEC_PATHS) | {HELM_RELEASE, HELM_CHART_V4},
        container_resources,
    ),
    _rule(
        "grafana-collector-scopes",
        "Grafana Cloud access policies grant at most metrics:write, logs:write and traces:write.",
        {ACCESS_POLICY},
        collector_scopes,
    ),
)


def violations(resource_type: str, props: Props, name: str = "", *, live: bool = False) -> list[str]:
    """Every rule's violations for one resource."""
    return [message for rule in RULES for message in rule.violations(resource_type, props, name, live=live)]


def policy_validation(rule: Rule) -> Callable[[Any, Callable[..., None]], None]:
    """The pack's `validate` callback for `rule` (args: pulumi_policy.ResourceValidationArgs).

    Props are read lazily, so an input that is unknown during preview only stops the rules that
    read it (pulumi-policy reports that as an advisory "can't run policy ... during preview").
    """

    def validate(args: Any, report_violation: Callable[..., None]) -> None:
        for message in rule.violations(args.resource_type, args.props, args.name, live=True):
            report_violation(message, None)

    return validate
