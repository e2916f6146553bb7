"""Dashboards: the LLM Judge dashboard (built in code) and pinned Kubernetes ones from grafana.com, in
this cluster's folder under uids that carry the cluster (builders.grafana_objects): every cluster's
stack has its own copy.

`overwrite=False`: a uid is this cluster's own, so a dashboard that already holds it belongs to another
stack (a copied stack file with the same clusterName) or was made by hand, and creating ours over it
must fail, loudly, instead of taking it over. Only the create reads the flag: the provider's update
posts with overwrite on whatever the resource says (grafana/terraform-provider-grafana
internal/resources/grafana/resource_dashboard.go, v4.44.0 and main at 3f9621f: `makeDashboard` line 249 takes
`overwrite` for `CreateDashboard`, `UpdateDashboard` sets `dashboard.Overwrite = true` at line 230),
so this stack's own later changes, a uid change included, still go through. Without it Grafana
refuses to save over an existing uid or title in the folder (the schema's `overwrite`, same file line
110: "overwrite existing dashboard with newer version, same dashboard title in folder or same dashboard
uid"; Dashboard HTTP API https://grafana.com/docs/grafana/latest/developers/http_api/dashboard/, 412)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumiverse_grafana as grafana

from builders.dashboards import DataSources, ServiceRoles, llm_judge_dashboard
from builders.grafana_com import PrebuiltDashboard, prepare_for_stack
from builders.grafana_objects import OVERVIEW_DASHBOARD, cluster_copy, dashboard_uid, prebuilt_dashboard_uid
from dynamic.grafana_com_dashboard import GrafanaComDashboard, decompress_model


@dataclass
class DashboardsArgs:
    folder_uid: pulumi.Input[str]
    data_sources: pulumi.Input[DataSources]
    services: Sequence[str]
    namespace: str
    sqs_queues: Sequence[str]
    prebuilt: Sequence[PrebuiltDashboard]
    grafana_provider: grafana.Provider  # the stack's Grafana
    cluster_name: str  # whose copy: uids carry the cluster
    roles: ServiceRoles = field(default_factory=ServiceRoles)  # config `serviceRoles`


class Dashboards(pulumi.ComponentResource):
    urls: pulumi.Output[dict[str, str]]

    def __init__(self, name: str, args: DashboardsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("llmjudge:observability:Dashboards", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=args.grafana_provider)
        data_sources = pulumi.Output.from_input(args.data_sources)
        custom = grafana.oss.Dashboard(
            f"{name}-llm-judge",
            folder=args.folder_uid,
            config_json=data_sources.apply(
                lambda ds: json.dumps(
                    cluster_copy(
                        llm_judge_dashboard(
                            ds,
                            args.services,
                            args.namespace,
                            args.sqs_queues,
                            args.roles,
                            cluster=args.cluster_name,
                        ),
                        dashboard_uid(args.cluster_name, OVERVIEW_DASHBOARD),
                        args.cluster_name,
                    )
                )
            ),
            overwrite=False,
            opts=child,
        )
        urls = {"llm-judge": custom.url}
        for pinned in args.prebuilt:
            # Downloaded on `pulumi up` (not in tests or the offline synth, where it is mocked),
            # checked against the pinned hash, and kept in state.
            source = GrafanaComDashboard(
                f"{name}-{pinned.gnet_id}-source",
                gnet_id=pinned.gnet_id,
                revision=pinned.revision,
                sha256=pinned.sha256,
                opts=pulumi.ResourceOptions(parent=self),
            )
            model = pulumi.Output.all(source.model_json_gz, data_sources).apply(
                _prebuilt_config(prebuilt_dashboard_uid(args.cluster_name, pinned.gnet_id), args.cluster_name)
            )
            dashboard = grafana.oss.Dashboard(
                f"{name}-{pinned.gnet_id}",
                folder=args.folder_uid,
                config_json=model,
                overwrite=False,
                opts=child,
            )
            urls[str(pinned.gnet_id)] = dashboard.url
        self.urls = pulumi.Output.all(**urls)
        self.register_outputs({"urls": self.urls})


def _prebuilt_config(uid: str, cluster: str) -> Callable[[list[Any]], str]:
    """(downloaded model as stored, compressed; DataSources) -> the dashboard's config_json: inputs
    resolved, this cluster's copy (`uid`, opening on `cluster`)."""

    def config(resolved: list[Any]) -> str:
        model_json_gz, ds = resolved
        prepared = prepare_for_stack(
            json.loads(decompress_model(model_json_gz)),
            {"DS_PROMETHEUS": ds.prometheus_uid, "DS_LOKI": ds.loki_uid},
        )
        return json.dumps(cluster_copy(prepared, uid, cluster))

    return config
