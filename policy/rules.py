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
Where no credential may be at all, secret or not (Helm values, container env), both callers
refuse the same inputs. tests/policy/test_mistakes_on_both_stacks.py runs each rule both ways.
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

from builders.grafana_cloud import (
    ALLOWED_COLLECTOR_SCOPES,
    OPENCOST_SCOPES,
    allowed_scopes,
)
from builders.grafana_objects import COLLECTOR_POLICY_SUFFIX, OPENCOST_POLICY_SUFFIX, VERIFY_POLICY_SUFFIX
from builders.iam import EBS_CSI_MANAGED_POLICY, NODE_MANAGED_POLICIES
from builders.verification import VERIFY_SCOPES

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
# Where a managed policy is attached: the attachment resources (`policyArn`) and the role's own
# `managedPolicyArns` / the exclusive attachment's `policyArns`.
POLICY_ATTACHMENTS: dict[str, str] = {
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "policyArn",
    "aws:iam/policyAttachment:PolicyAttachment": "policyArn",
    "aws:iam/userPolicyAttachment:UserPolicyAttachment": "policyArn",
    "aws:iam/groupPolicyAttachment:GroupPolicyAttachment": "policyArn",
    IAM_ROLE: "managedPolicyArns",
    "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive": "policyArns",
}
EXTERNAL_SECRETS = frozenset(
    f"kubernetes:external-secrets.io/{version}:{kind}"
    for version in ("v1", "v1beta1")
    for kind in ("ExternalSecret", "ClusterExternalSecret")
)


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


def _has_value(value: Any) -> bool:
    """A non-empty scalar: a secret Output ("[secret]" in the synth) counts as much as a literal."""
    return value is not None and not isinstance(value, bool) and str(value).strip() != ""


def _literal_problem(value: Any, *, secrets_visible: bool, base64_encoded: bool = False) -> str | None:
    """Why `value` is a literal credential, or None. Non-strings and empty strings are no credential."""
    if not isinstance(value, str) or not value.strip() or value == SECRET_MARKER:
        return None
    plain = _decoded(value) if base64_encoded else value
    if _PLACEHOLDER.fullmatch(plain.strip()):
        return "is a placeholder value"
    if secrets_visible:
        return "is a plain (non-secret) value"
    return None  # live: plaintext of a secret Output and a literal look the same


def _is_metadata_map(key: str) -> bool:
    """`annotations`, `podLabels`, `commonAnnotations`, ...: their keys are Kubernetes annotation and
    label names (`checksum/secret`, `secret.reloader.stakater.com/reload`), not settings."""
    normalized = _normalized(key)
    return normalized.endswith(("annotations", "labels"))


def _env_entry(value: Any) -> tuple[str, Any] | None:
    """(name, value) of an env-list entry `{name: X, value: V}` (Helm `extraEnv`, a container's env)."""
    if _is_map(value) and isinstance(value.get("name"), str) and "value" in value:
        return str(value["name"]), value["value"]
    return None


def _credential_leaves(value: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """(path, value) of each scalar under a credential-looking key, at any depth of maps and lists.

    An env-list entry counts as its name: `extraEnv: [{name: API_TOKEN, value: ...}]` is the value
    of API_TOKEN. The keys of annotation and label maps are not settings and are skipped.
    """
    if _is_map(value):
        entry = _env_entry(value)
        if entry is not None and is_credential_key(entry[0]):
            if not (_is_map(entry[1]) or _is_list(entry[1])):
                yield (*path, entry[0]), entry[1]
            return
        for key, sub in value.items():
            here = (*path, str(key))
            if _is_metadata_map(str(key)):
                continue
            if is_credential_key(str(key)) and not (_is_map(sub) or _is_list(sub)):
                yield here, sub
            else:
                yield from _credential_leaves(sub, here)
    elif _is_list(value):
        for index, sub in enumerate(value):
            yield from _credential_leaves(sub, (*path, str(index)))


# An Alloy attribute set to a string literal: `password = "hunter2"` or a raw string in backticks.
# An expression (`remote.kubernetes.secret.x.data["KEY"]`, `sys.env("TOKEN")`) is no literal.
# https://grafana.com/docs/alloy/latest/get-started/configuration-syntax/expressions/types_and_values/#strings
_ALLOY_LITERAL = re.compile(r'\b([A-Za-z_][A-Za-z0-9_]*)\s*=\s*("(?:[^"\\\n]|\\.)*"|`[^`]*`)')


def _text_leaves(value: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], str]]:
    """(path, text) of every string in `value`, annotation and label maps left out."""
    if isinstance(value, str):
        yield path, value
    elif _is_map(value):
        for key, sub in value.items():
            if not _is_metadata_map(str(key)):
                yield from _text_leaves(sub, (*path, str(key)))
    elif _is_list(value):
        for index, sub in enumerate(value):
            yield from _text_leaves(sub, (*path, str(index)))


def alloy_literal_credentials(text: str) -> list[str]:
    """Credential attributes (`password`, `bearer_token`, ...) set to a non-empty literal in Alloy text."""
    return [
        attribute
        for attribute, literal in _ALLOY_LITERAL.findall(text)
        if is_credential_key(attribute) and literal[1:-1].strip()
    ]


def literal_credentials(
    resource_type: str, props: Props, name: str = "", *, secrets_visible: bool = True
) -> list[str]:
    """No credential as a literal in a Secret, a Secrets Manager value, Helm values or a container's env.

    Kubernetes Secret: every `data`/`stringData` key that looks like a credential must come from a
    secret Output. Helm values and container env: a credential-looking key (password, token,
    apiKey, an env entry named so, an Alloy attribute in config text) must not carry a value at
    all, secret Output or not — Helm keeps values in its release Secret and `helm get values`
    prints them, a pod spec is readable by whoever reads Deployments; point at a Secret instead
    (`passwordKey`, `existingSecret`, `secret.name`, `valueFrom.secretKeyRef` are references and
    fine). Secrets Manager: the whole `secretString` must be secret.
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
        values = props.get("values")
        for path, value in _credential_leaves(values):
            if _has_value(value):
                found.append(
                    f"{label}: values.{'.'.join(path)} holds a credential; Helm keeps values in the "
                    "release Secret and `helm get values` prints them — reference a Kubernetes Secret "
                    "instead (e.g. secret.name + auth.passwordKey)"
                )
        for path, text in _text_leaves(values):
            for attribute in alloy_literal_credentials(text):
                found.append(
                    f"{label}: values.{'.'.join(path)} sets Alloy attribute {attribute} to a literal; "
                    'read it from a Secret (remote.kubernetes.secret "x" {...} / sys.env)'
                )
    elif resource_type in POD_SPEC_PATHS:
        pod = _dig(props, *POD_SPEC_PATHS[resource_type])
        for field in ("initContainers", "containers"):
            for index, container in enumerate(_as_list(_dig(pod, field))):
                for entry in _as_list(_dig(container, "env")):
                    named = _env_entry(entry)
                    if named and is_credential_key(named[0]) and _has_value(named[1]):
                        who = _dig(container, "name") or f"{field}[{index}]"
                        found.append(
                            f"{label}: container {who!r} env {named[0]} holds a credential; take it "
                            "from a Secret (valueFrom.secretKeyRef), pod specs are no secret store"
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


# An ExternalSecret's `dataFrom.find` copies every secret it matches into the cluster Secret.
# https://external-secrets.io/latest/guides/getallsecrets/ ("find" by name regexp, path, tags)
_LITERAL_PREFIX = re.compile(r"\^[A-Za-z0-9/_=@-]")  # a regex character (`.`, `(`, `[`) is none


def _narrowing(find: Any) -> list[str]:
    """What narrows a `find` to named secrets: a path prefix, tags, a name regexp anchored at a literal."""
    found = []
    path = _dig(find, "path")
    if isinstance(path, str) and path.strip("/"):
        found.append("path")
    if _is_map(_dig(find, "tags")) and _dig(find, "tags"):
        found.append("tags")
    regexp = _dig(find, "name", "regexp")
    if isinstance(regexp, str) and _LITERAL_PREFIX.match(regexp):
        found.append("name.regexp")
    return found


def external_secret_scope(resource_type: str, props: Props, name: str = "") -> list[str]:
    """An ExternalSecret names the keys it brings in: a `dataFrom.find` must be narrowed.

    A find without a `path` prefix, `tags` or a `name.regexp` anchored at a literal prefix
    (`^llm-judge/`) matches every secret the store's AWS role can read — ESO's regexp match
    is unanchored, so `.*`, `grafana` or no name at all pull every secret (containing it) into
    one Kubernetes Secret. `data` entries and `dataFrom.extract` name one secret and pass.
    """
    if resource_type not in EXTERNAL_SECRETS:
        return []
    spec = _dig(props, "spec")
    if resource_type.endswith(":ClusterExternalSecret"):
        spec = _dig(spec, "externalSecretSpec")
    found = []
    for index, source in enumerate(_as_list(_dig(spec, "dataFrom"))):
        find = _dig(source, "find")
        if find is not None and not _narrowing(find):
            found.append(
                f"{_label(resource_type, props, name)}: spec.dataFrom[{index}].find matches every "
                "secret the store can read; list the keys under spec.data (or dataFrom.extract of "
                "one secret), or narrow the find with a path prefix, tags or a name.regexp anchored "
                "at a literal prefix (^llm-judge/)"
            )
    return found


CLUSTER_SECRET_STORES = frozenset(
    f"kubernetes:external-secrets.io/{version}:ClusterSecretStore" for version in ("v1", "v1beta1")
)
# The annotation that gives a Kubernetes service account an AWS role on EKS (IRSA).
_IRSA_ANNOTATION = "eks.amazonaws.com/role-arn"


def secret_stores_serve_one_namespace(resource_type: str, props: Props, name: str = "") -> list[str]:
    """A secret store serves named namespaces only.

    - A ClusterSecretStore without `spec.conditions` serves ExternalSecrets of every namespace
      (external-secrets pkg/controllers/secretstore/client_manager.go `shouldProcessSecret`: no
      conditions, every namespace); the chart lets every namespace editor create ExternalSecrets
      (templates/rbac.yaml, aggregated to `edit`). Each condition must list `namespaces` and no
      `namespaceSelector` or `namespaceRegexes` (a namespace matching any of them is served).
    - The external-secrets controller's own service account carries no IRSA role: a store without
      `auth` runs with the controller's ambient credentials (providers/v1/aws/auth/auth.go), and
      any namespace editor may create such a SecretStore.
    """
    label = _label(resource_type, props, name)
    if resource_type in CLUSTER_SECRET_STORES:
        conditions = _as_list(_dig(props, "spec", "conditions"))
        loose = [
            index
            for index, condition in enumerate(conditions)
            if not _as_list(_dig(condition, "namespaces"))
            or _dig(condition, "namespaceSelector") is not None
            or _dig(condition, "namespaceRegexes") is not None
        ]
        if conditions and not loose:
            return []
        where = f"spec.conditions{loose}" if conditions else "no spec.conditions"
        return [
            f"{label}: serves ExternalSecrets of namespaces it does not name ({where}); give it "
            "conditions: [{namespaces: [<namespace>]}] only, or use a SecretStore in that namespace"
        ]
    if resource_type in (HELM_RELEASE, HELM_CHART_V4) and _chart_name(props) == "external-secrets":
        annotations = _dig(props, "values", "serviceAccount", "annotations")
        if _is_map(annotations) and _IRSA_ANNOTATION in annotations:
            return [
                f"{label}: values.serviceAccount.annotations[{_IRSA_ANNOTATION!r}] gives the controller an "
                "AWS role that any namespace's SecretStore without `auth` uses; put the role on a service "
                "account of the store's namespace and reference it in the store's auth.jwt"
            ]
    return []


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
    regex = re.escape(pattern.lower()).replace(r"\*", ".*").replace(r"\?", ".")
    return re.fullmatch(regex, action) is not None


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
    `"Resource": "*"` unless every action of the statement is one that only accepts `*`
    (`RESOURCE_WILDCARD_ONLY_ACTIONS`), and an ARN with `*` in it (`...:secret:*` is every secret
    of the account, `...:role/*` every role): the program knows each ARN it grants.
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
            patterns = sorted(r for r in resources if isinstance(r, str) and "*" in r and r != "*")
            if patterns:
                found.append(
                    f"{where}: Resource {patterns} match every resource of the pattern; name the "
                    "exact ARNs (the ARN output of the resource granted)"
                )
            if "*" in resources:
                needing_arn = sorted(a for a in actions if a.lower() not in RESOURCE_WILDCARD_ONLY_ACTIONS)
                if needing_arn:
                    found.append(
                        f"{where}: Resource '*' for {needing_arn}, which accept resource ARNs; "
                        "name the ARNs (only actions without resource-level permissions may use '*')"
                    )
    return found


# AWS-managed policies the stack attaches, each for a documented need; any other attachment
# (AdministratorAccess, a *FullAccess policy, a policy made outside the program) is refused, as its
# permissions cannot be checked here. AmazonEKSClusterPolicy: pulumi-eks's cluster service role
# (nodejs/eks/cluster/cluster.ts, `managedPolicies = ["AmazonEKSClusterPolicy"]` without auto mode);
# the node and EBS CSI policies: builders/iam.py.
ALLOWED_MANAGED_POLICIES = frozenset(
    {
        "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy",
        EBS_CSI_MANAGED_POLICY,
        *NODE_MANAGED_POLICIES,
    }
)


def _in_partition_aws(arn: str) -> str:
    """The ARN with its partition written `aws` (aws-cn, aws-us-gov hold the same managed policies)."""
    return re.sub(r"^arn:aws(-[a-z-]+)?:", "arn:aws:", arn)


def managed_policy_attachments(resource_type: str, props: Props, name: str = "") -> list[str]:
    """Only the allow-listed AWS-managed policies are attached (`ALLOWED_MANAGED_POLICIES`)."""
    field = POLICY_ATTACHMENTS.get(resource_type)
    if field is None:
        return []
    arns = [a for a in _as_list(props.get(field)) if isinstance(a, str)]
    refused = sorted(a for a in arns if _in_partition_aws(a) not in ALLOWED_MANAGED_POLICIES)
    if not refused:
        return []
    return [
        f"{_label(resource_type, props, name)}: {field} {refused} are not among the managed policies "
        f"this stack needs ({sorted(ALLOWED_MANAGED_POLICIES)}); grant exact actions and resources "
        "in an inline policy instead"
    ]


# --- (d) Helm chart versions ----------------------------------------------------------------------

_EXACT_VERSION = re.compile(r"\d+\.\d+\.\d+")


def pinned_chart_version(resource_type: str, props: Props, name: str = "") -> list[str]:
    """A Helm release pins its chart to an exact MAJOR.MINOR.PATCH version (no range, no `latest`)."""
    if resource_type not in (HELM_RELEASE, HELM_CHART_V4):
        return []
    version = props.get("version")
    if isinstance(version, str) and _EXACT_VERSION.fullmatch(version):
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


def _chart_name(props: Props) -> str:
    """`k8s-monitoring` of `k8s-monitoring`, `grafana/k8s-monitoring`, `oci://.../k8s-monitoring`, a .tgz."""
    chart = props.get("chart")
    if not isinstance(chart, str):
        return ""
    name = re.split(r"[/:]", chart)[-1].removesuffix(".tgz")
    version = props.get("version")
    return name.removesuffix(f"-{version}") if isinstance(version, str) and version else name


def _enabled(block: Any, key: str, default: bool) -> bool:
    value = _dig(block, key)
    return value if isinstance(value, bool) else default


def _k8s_monitoring_workloads(values: Any) -> Iterator[tuple[str, Any]]:
    """(values path, resources) of each container the k8s-monitoring 4.4.0 values deploy.

    Each collector is an Alloy instance: the Alloy container and its config-reloader sidecar
    (on unless `configReloader.enabled: false`, the Alloy chart's default). The Alloy Operator runs
    its own Deployment and, unless `waitForAlloyRemoval.enabled: false` (chart values.yaml, default
    true), the Helm-hook Jobs that share `waitForAlloyRemoval.resources`. Checked against the real
    chart's render in tests/policy/test_rules_model_the_charts.py.
    """
    collectors = _dig(values, "collectors")
    for collector, block in collectors.items() if _is_map(collectors) else []:
        yield f"collectors.{collector}.alloy.resources", _dig(block, "alloy", "resources")
        reloader = _dig(block, "configReloader")
        if _enabled(reloader, "enabled", True):
            yield f"collectors.{collector}.configReloader.resources", _dig(reloader, "resources")
    services = _dig(values, "telemetryServices")
    for service, block in services.items() if _is_map(services) else []:
        if _is_map(block) and block.get("deploy") is True:
            path = TELEMETRY_RESOURCES.get(service, ("resources",))
            yield f"telemetryServices.{service}.{'.'.join(path)}", _dig(block, *path)
    operator = _dig(values, "alloy-operator")
    if _enabled(operator, "deploy", True):  # the chart deploys the Alloy Operator by default
        yield "alloy-operator.resources", _dig(operator, "resources")
        if _enabled(_dig(operator, "waitForAlloyRemoval"), "enabled", True):
            yield (
                "alloy-operator.waitForAlloyRemoval.resources",
                _dig(operator, "waitForAlloyRemoval", "resources"),
            )


def _extra_containers(values: Any, prefix: str) -> Iterator[tuple[str, Any]]:
    for field in ("extraContainers", "extraInitContainers"):
        for index, container in enumerate(_as_list(_dig(values, field))):
            yield f"{prefix}{field}[{index}].resources", _dig(container, "resources")


def _external_secrets_workloads(values: Any) -> Iterator[tuple[str, Any]]:
    """(values path, resources) of each container the external-secrets chart deploys.

    The controller (`resources`, unless `createOperator: false`), the webhook and the cert
    controller (`webhook.create`, `certController.create`, both default true), the optional
    bitwarden-sdk-server subchart (`bitwarden-sdk-server.enabled`, default false), and any extra
    containers. Source: deploy/charts/external-secrets/values.yaml of external-secrets/external-secrets
    (chart 2.9.0 at the commit read; the same keys since the 0.9 charts).
    """
    if _enabled(values, "createOperator", True):
        yield "resources", _dig(values, "resources")
        yield from _extra_containers(values, "")
    for component in ("webhook", "certController"):
        block = _dig(values, component)
        if _enabled(block, "create", True):
            yield f"{component}.resources", _dig(block, "resources")
            yield from _extra_containers(block, f"{component}.")
    if _enabled(_dig(values, "bitwarden-sdk-server"), "enabled", False):
        yield "bitwarden-sdk-server.resources", _dig(values, "bitwarden-sdk-server", "resources")


# Charts whose containers the pack can find in the values. A release of any other chart is refused
# by the resources rule until its workloads are added here.
CHART_WORKLOADS: dict[str, Callable[[Any], Iterator[tuple[str, Any]]]] = {
    "k8s-monitoring": _k8s_monitoring_workloads,
    "external-secrets": _external_secrets_workloads,
}


def container_resources(resource_type: str, props: Props, name: str = "") -> list[str]:
    """Containers (with an image) and Helm charts' workloads set cpu/memory requests and limits."""
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
    elif resource_type in (HELM_RELEASE, HELM_CHART_V4):
        chart = _chart_name(props)
        workloads = CHART_WORKLOADS.get(chart)
        if workloads is None:
            return [
                f"{label}: the pack does not know where chart {chart!r} sets its containers' resources; "
                "add its workloads to CHART_WORKLOADS in policy/rules.py so they are checked"
            ]
        for path, resources in workloads(props.get("values")):
            missing = missing_resources(resources)
            if missing:
                found.append(f"{label}: values.{path} lacks {', '.join(missing)}")
    return found


# --- (f) Grafana Cloud access-policy scopes -------------------------------------------------------

POLICY_SUFFIXES = (COLLECTOR_POLICY_SUFFIX, OPENCOST_POLICY_SUFFIX, VERIFY_POLICY_SUFFIX)
# What each kind of access policy is for, by the scopes builders.grafana_cloud.allowed_scopes gives it.
_SCOPE_PURPOSE: dict[tuple[str, ...], str] = {
    ALLOWED_COLLECTOR_SCOPES: "the collectors' token only writes telemetry",
    OPENCOST_SCOPES: "OpenCost's token only reads metrics",
    VERIFY_SCOPES: "the verification token only reads this stack's telemetry",
}


def collector_scopes(resource_type: str, props: Props, name: str = "") -> list[str]:
    """A Grafana Cloud access policy grants only its role's scopes, told apart by its name
    (builders.grafana_cloud.allowed_scopes): the collectors' write scopes (`<cluster>-alloy-collectors`),
    OpenCost's `metrics:read` (`<cluster>-opencost`), or the verification policy's read scopes
    (`<cluster>-verify-read`). A policy named none of these is refused: nothing says what it may hold."""
    if resource_type != ACCESS_POLICY:
        return []
    policy_name = props.get("name")
    allowed = allowed_scopes(policy_name) if isinstance(policy_name, str) else None
    if allowed is None:
        return [
            f"{_label(resource_type, props, name)}: name {policy_name!r} is none of this program's access "
            f"policies ({', '.join(f'<clusterName>{s}' for s in POLICY_SUFFIXES)}), so no scopes are "
            "known to be its own; name it after the one it is"
        ]
    why = _SCOPE_PURPOSE[allowed]
    scopes = [s for s in _as_list(props.get("scopes")) if isinstance(s, str)]
    extra = sorted(set(scopes) - set(allowed))
    if not extra:
        return []
    return [f"{_label(resource_type, props, name)}: scopes {extra} are beyond {list(allowed)}; {why}"]


# A matcher `cluster="<name>"` (equality, not `=~`) in a Prometheus/LogQL selector.
_CLUSTER_MATCHER = re.compile(r'(?:^|[{,\s])cluster\s*=\s*"[^"]+"')
LABEL_RESTRICTED_SCOPES = frozenset({"metrics:read", "logs:read"})


def read_policies_one_cluster(resource_type: str, props: Props, name: str = "") -> list[str]:
    """An access policy that reads metrics or logs sees one cluster's only: each of its realms has
    label policies, each selecting `cluster="<name>"` (builders.grafana_cloud.cluster_selector).
    Without them a token in one cluster reads every cluster's telemetry in the stack. Traces have
    no access-policy label selectors, so `traces:read` alone is not held to this."""
    if resource_type != ACCESS_POLICY:
        return []
    reads = sorted(s for s in _as_list(props.get("scopes")) if s in LABEL_RESTRICTED_SCOPES)
    if not reads:
        return []
    label = _label(resource_type, props, name)
    found = []
    for index, realm in enumerate(_as_list(props.get("realms"))):
        selectors = [_dig(p, "selector") for p in _as_list(_dig(realm, "labelPolicies"))]
        loose = [s for s in selectors if not (isinstance(s, str) and _CLUSTER_MATCHER.search(s))]
        if not selectors or loose:
            found.append(
                f"{label}: realms[{index}] lets {reads} read every cluster's data in the stack "
                f"(label policies {selectors or 'none'}); give it labelPolicies selecting "
                "'{cluster=\"<clusterName>\"}'"
            )
    return found


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
        "Credentials in Secrets and Secrets Manager values are secret Outputs; Helm values and "
        "container env carry none.",
        {K8S_SECRET, HELM_RELEASE, HELM_CHART_V4, AWS_SECRET_VERSION, *POD_SPEC_PATHS},
        literal_credentials,
        partial(literal_credentials, secrets_visible=False),
    ),
    _rule(
        "external-secrets-name-their-keys",
        "ExternalSecrets name the secrets they copy: no dataFrom.find that matches every secret.",
        EXTERNAL_SECRETS,
        external_secret_scope,
    ),
    _rule(
        "secret-stores-serve-one-namespace",
        "ClusterSecretStores list the namespaces they serve (spec.conditions[].namespaces); the "
        "external-secrets controller has no AWS role of its own.",
        CLUSTER_SECRET_STORES | {HELM_RELEASE, HELM_CHART_V4},
        secret_stores_serve_one_namespace,
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
        "iam-managed-policies-allow-listed",
        "Only the AWS-managed policies the stack needs are attached (no AdministratorAccess & co.).",
        set(POLICY_ATTACHMENTS),
        managed_policy_attachments,
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
        "Grafana Cloud access policies are the program's three, told apart by name: the collectors' "
        "<cluster>-alloy-collectors grants at most metrics:write, logs:write and traces:write, "
        "OpenCost's <cluster>-opencost metrics:read only, the verification policy <cluster>-verify-read "
        "metrics:read, logs:read and traces:read only; any other name is refused.",
        {ACCESS_POLICY},
        collector_scopes,
    ),
    _rule(
        "grafana-read-policies-one-cluster",
        "Grafana Cloud access policies that read metrics or logs select one cluster's data with a "
        'label policy {cluster="<clusterName>"} on every realm.',
        {ACCESS_POLICY},
        read_policies_one_cluster,
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
