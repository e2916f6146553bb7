from __future__ import annotations

from builders.credentials import KEYS, SECRET_NAME, secret_entries
from builders.external_secrets import (
    IRSA_ROLE_ANNOTATION,
    OPERATOR_ACCOUNT,
    READER_ACCOUNT_NAME,
    STORE_KIND,
    aws_secret_name,
    external_secret_spec,
    operator_values,
    reader_annotations,
    secret_store_spec,
)
from builders.kubeconfig import eks_kubeconfig


def test_external_secret_reads_every_key_of_the_local_secret():
    local_keys = list(secret_entries(**{f: f for f in KEYS.__dataclass_fields__}))
    assert KEYS.opencost_token in local_keys
    spec = external_secret_spec("c/grafana-cloud-credentials", local_keys)
    assert [d["secretKey"] for d in spec["data"]] == local_keys
    assert all(
        d["remoteRef"] == {"key": "c/grafana-cloud-credentials", "property": d["secretKey"]}
        for d in spec["data"]
    )
    assert spec["target"]["name"] == SECRET_NAME


def test_aws_secret_is_named_per_cluster():
    assert aws_secret_name("prod") != aws_secret_name("staging")


def test_store_authenticates_as_the_reader_account_of_its_own_namespace():
    aws = secret_store_spec("eu-west-1")["provider"]["aws"]
    assert aws["service"] == "SecretsManager" and aws["region"] == "eu-west-1"
    # No namespace: a SecretStore's serviceAccountRef is read in the store's namespace.
    assert aws["auth"]["jwt"]["serviceAccountRef"] == {"name": READER_ACCOUNT_NAME}
    assert reader_annotations("arn:aws:iam::1:role/r") == {IRSA_ROLE_ANNOTATION: "arn:aws:iam::1:role/r"}
    ref = external_secret_spec("c/grafana-cloud-credentials")["secretStoreRef"]
    assert ref["kind"] == STORE_KIND == "SecretStore"


def test_operator_has_no_aws_role_and_resources_everywhere():
    values = operator_values()
    assert values["serviceAccount"] == {"create": True, "name": OPERATOR_ACCOUNT.name}  # no annotations
    for block in (values, values["webhook"], values["certController"]):
        assert set(block["resources"]) == {"requests", "limits"}


def test_existing_cluster_kubeconfig_uses_aws_cli_tokens_not_stored_credentials():
    config = eks_kubeconfig("shared", "https://x.eks.amazonaws.com", "Q0E=", "eu-west-1")
    (user,) = config["users"]
    assert user["user"]["exec"]["command"] == "aws"
    assert user["user"]["exec"]["args"] == [
        "eks",
        "get-token",
        "--cluster-name",
        "shared",
        "--region",
        "eu-west-1",
        # The exec plugin must print JSON whatever the user's AWS CLI `output` setting is (text,
        # yaml, table); pulumi-eks passes the same (nodejs/eks/cluster/cluster.ts generateKubeconfig).
        "--output",
        "json",
    ]
    assert "token" not in str(user["user"]).replace("get-token", "")
    assert config["clusters"][0]["cluster"]["server"] == "https://x.eks.amazonaws.com"


def test_secret_entries_hold_opencosts_token_only_when_there_is_one():
    fields = {f: f for f in KEYS.__dataclass_fields__ if f != "opencost_token"}
    assert KEYS.opencost_token not in secret_entries(**fields)
    assert list(secret_entries(**fields)) == list(KEYS.all())
    assert secret_entries(**fields, opencost_token="t")[KEYS.opencost_token] == "t"
