"""Subnet choice for a created EKS cluster: zones EKS accepts and that offer the nodes (no Pulumi)."""

from __future__ import annotations

import pytest

from builders.subnets import EKS_UNSUPPORTED_ZONE_IDS, Subnet, SubnetSelectionError, cluster_subnets

T3 = ("t3.large",)
# us-east-1 as in pulumi/pulumi-eks#1401: use1-az3 takes no EKS control plane.
SUBNETS = [Subnet(f"subnet-{n}", f"use1-az{n}") for n in range(1, 7)]
EVERYWHERE = {f"use1-az{n}": frozenset(T3) for n in range(1, 7)}


def choose(subnets=SUBNETS, offered=EVERYWHERE, types=T3, explicit=False):
    return cluster_subnets(
        subnets, offered, types, explicit=explicit, source="the default VPC vpc-1 of us-east-1"
    )


def test_default_vpc_subnets_in_a_zone_eks_does_not_support_are_left_out():
    assert choose() == ("subnet-1", "subnet-2", "subnet-4", "subnet-5", "subnet-6")


def test_zones_without_the_node_instance_types_are_left_out():
    offered = {**EVERYWHERE, "use1-az5": frozenset({"m6i.large"})}
    assert choose(offered=offered) == ("subnet-1", "subnet-2", "subnet-4", "subnet-6")
    both = ("t3.large", "m6i.large")
    offered = {"use1-az1": frozenset(both), "use1-az2": frozenset(both), "use1-az4": frozenset(T3)}
    assert choose(offered=offered, types=both) == ("subnet-1", "subnet-2")  # every type, in each zone


def test_local_zone_subnets_are_left_out():
    subnets = [*SUBNETS[:2], Subnet("subnet-lz", "use1-bos1-az1")]
    assert choose(subnets=subnets, offered={**EVERYWHERE, "use1-bos1-az1": frozenset(T3)}) == (
        "subnet-1",
        "subnet-2",
    )


def test_fewer_than_two_usable_zones_is_refused_saying_why():
    offered = {"use1-az1": frozenset(T3), "use1-az3": frozenset(T3)}
    with pytest.raises(SubnetSelectionError) as raised:
        choose(subnets=[SUBNETS[0], SUBNETS[2], Subnet("subnet-1b", "use1-az1")], offered=offered)
    message = str(raised.value)
    assert message.startswith(
        "the default VPC vpc-1 of us-east-1: usable subnets in 1 Availability Zone(s) (use1-az1)"
    )
    assert "subnet-3 (EKS does not create control planes in use1-az3)" in message
    assert "Set vpcId and subnetIds" in message


def test_explicit_subnets_are_all_checked_and_none_silently_dropped():
    offered = {**EVERYWHERE, "use1-az2": frozenset()}
    with pytest.raises(SubnetSelectionError) as raised:
        choose(subnets=SUBNETS[:3], offered=offered, explicit=True)
    message = str(raised.value)
    assert "subnet-2 (t3.large is not offered in use1-az2)" in message
    assert "subnet-3 (EKS does not create control planes in use1-az3)" in message
    assert "subnet-1 " not in message
    assert choose(subnets=[SUBNETS[0], SUBNETS[3]], explicit=True) == ("subnet-1", "subnet-4")


def test_an_explicit_list_is_refused_even_when_two_zones_would_remain():
    # subnet-1 and subnet-4 would do, but the user listed subnet-3 too (use1-az3): refused, not dropped.
    with pytest.raises(SubnetSelectionError, match=r"EKS would refuse subnet-3 \(EKS does not create"):
        choose(subnets=[SUBNETS[0], SUBNETS[2], SUBNETS[3]], explicit=True)


def test_the_zones_eks_refuses_are_the_documented_ones():
    # https://docs.aws.amazon.com/eks/latest/userguide/network-reqs.html (Subnet requirements).
    assert {"use1-az3", "usw1-az2", "cac1-az3"} == EKS_UNSUPPORTED_ZONE_IDS
