"""StackGrafana: what this cluster's alert rules and dashboards share in the stack's Grafana — the
cluster's own folder ("LLM Judge (<cluster>)", builders.grafana_objects), and the uids of the data
sources Grafana Cloud provisions (read, never declared: they belong to Grafana Cloud)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumiverse_grafana as grafana

from builders.dashboards import DataSources
from builders.grafana_cloud import stack_data_source_names
from builders.grafana_objects import folder_title, folder_uid


@dataclass
class StackGrafanaArgs:
    stack_slug: str
    cluster_name: str  # the folder is this cluster's own
    grafana_provider: grafana.Provider  # the stack's Grafana (URL + service-account token)
    # What the provider's token comes from. While it is being created or rotated the provider is
    # unconfigured and the engine would answer lookups with nothing; depending on it makes them
    # unknown in that preview instead, and real once the token exists.
    provider_credentials: Sequence[pulumi.Resource] = field(default_factory=tuple)


class StackGrafana(pulumi.ComponentResource):
    folder_uid: pulumi.Output[str]
    data_sources: pulumi.Output[DataSources]

    def __init__(self, name: str, args: StackGrafanaArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("llmjudge:observability:StackGrafana", name, None, opts)
        folder = grafana.oss.Folder(
            f"{name}-folder",
            title=folder_title(args.cluster_name),
            uid=folder_uid(args.cluster_name),
            opts=pulumi.ResourceOptions(parent=self, provider=args.grafana_provider),
        )
        lookup = pulumi.InvokeOutputOptions(
            parent=self, provider=args.grafana_provider, depends_on=list(args.provider_credentials)
        )
        uids = {
            kind: grafana.oss.get_data_source_output(name=source, opts=lookup).uid
            for kind, source in stack_data_source_names(args.stack_slug).items()
        }
        self.folder_uid = folder.uid
        self.data_sources = pulumi.Output.all(uids["prometheus"], uids["loki"], uids["tempo"]).apply(
            lambda r: DataSources(prometheus_uid=r[0], loki_uid=r[1], tempo_uid=r[2])
        )
        self.register_outputs({"folder_uid": self.folder_uid})
