"""Which subnets a created EKS cluster (and its managed node group) may use (pure).

EKS refuses a cluster whose subnets include one in an Availability Zone it does not place control
planes in (CreateCluster: UnsupportedAvailabilityZoneException; pulumi/pulumi-eks#1401 hit it with
pulumi-eks's default of every subnet of the default VPC). The managed node group uses the same
subnets (pulumi-eks nodejs/eks/nodes/nodegroup.ts: a ManagedNodeGroup without subnetIds takes the
cluster's), so each subnet's zone must also offer the node instance types.

Zones are compared by zone id (use1-az3), which names the same physical zone in every account;
zone names (us-east-1a) are shuffled per account.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

# "Amazon EKS doesn't support creating control planes in" these zones; a cluster subnet there makes
# CreateCluster fail. https://docs.aws.amazon.com/eks/latest/userguide/network-reqs.html
# (Subnet requirements and considerations) and
# https://repost.aws/knowledge-center/eks-cluster-creation-errors
EKS_UNSUPPORTED_ZONE_IDS = frozenset({"use1-az3", "usw1-az2", "cac1-az3"})
# A Region's Availability Zones have ids like use1-az1; Local Zones (use1-bos1-az1) and Wavelength
# Zones have more parts. "You must not specify Local Zone subnets when you create your cluster":
# https://docs.aws.amazon.com/eks/latest/userguide/local-zones.html
_REGIONAL_ZONE_ID = re.compile(r"[a-z]+[0-9]+-az[0-9]+")
# "you specify a VPC and at least two subnets that are in different Availability Zones" (network-reqs).
MIN_ZONES = 2


class SubnetSelectionError(ValueError):
    """No set of subnets EKS accepts; the message says which subnets were refused and why."""


@dataclass(frozen=True)
class Subnet:
    id: str
    zone_id: str


def unusable_because(
    subnet: Subnet, offered: Mapping[str, frozenset[str]], instance_types: Sequence[str]
) -> list[str]:
    """Why EKS would refuse this subnet for the cluster or its node group (empty: usable).

    `offered`: zone id -> the node instance types EC2 offers there (DescribeInstanceTypeOfferings).
    """
    if not _REGIONAL_ZONE_ID.fullmatch(subnet.zone_id):
        return [
            f"{subnet.zone_id} is not one of the Region's Availability Zones "
            "(EKS control planes run only there)"
        ]
    reasons = []
    if subnet.zone_id in EKS_UNSUPPORTED_ZONE_IDS:
        reasons.append(f"EKS does not create control planes in {subnet.zone_id}")
    missing = [t for t in instance_types if t not in offered.get(subnet.zone_id, frozenset())]
    if missing:
        reasons.append(
            f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not offered in {subnet.zone_id}"
        )
    return reasons


def cluster_subnets(
    subnets: Sequence[Subnet],
    offered: Mapping[str, frozenset[str]],
    instance_types: Sequence[str],
    *,
    explicit: bool,
    source: str,
) -> tuple[str, ...]:
    """The subnet ids to create the cluster with, sorted; or SubnetSelectionError.

    `explicit`: the user listed these subnets (subnetIds): every one must be usable. Otherwise they
    are the default VPC's and the unusable ones are left out. Either way at least two zones remain.
    `source`: how the message names where the subnets came from.
    """
    usable: list[Subnet] = []
    refused: list[str] = []
    for subnet in subnets:
        reasons = unusable_because(subnet, offered, instance_types)
        if reasons:
            refused.append(f"{subnet.id} ({'; '.join(reasons)})")
        else:
            usable.append(subnet)
    if explicit and refused:
        raise SubnetSelectionError(
            f"{source}: EKS would refuse {', '.join(refused)}. Choose subnets in zones EKS supports that "
            f"offer {', '.join(instance_types)}."
        )
    zones = sorted({s.zone_id for s in usable})
    if len(zones) < MIN_ZONES:
        left_out = f"; left out: {', '.join(refused)}" if refused else ""
        raise SubnetSelectionError(
            f"{source}: usable subnets in {len(zones)} Availability Zone(s) ({', '.join(zones) or 'none'}), "
            f"EKS needs at least {MIN_ZONES}{left_out}. Set vpcId and subnetIds to subnets in at least "
            f"{MIN_ZONES} zones that EKS supports and that offer {', '.join(instance_types)}."
        )
    return tuple(sorted(s.id for s in usable))
