"""Webhook notifications as their senders document them.

ALERTMANAGER: the shape of Prometheus Alertmanager's `webhook_config` payload (version 4)
from its configuration documentation, with values; GRAFANA: the example JSON body of
Grafana's webhook notifier documentation.
"""

from typing import Any

ALERTMANAGER: dict[str, Any] = {
    "version": "4",
    "groupKey": '{}/{severity="critical"}:{alertname="ModelDrift"}',
    "truncatedAlerts": 0,
    "status": "firing",
    "receiver": "boxops",
    "groupLabels": {"alertname": "ModelDrift"},
    "commonLabels": {"alertname": "ModelDrift", "severity": "critical"},
    "commonAnnotations": {"summary": "Prediction drift above its limit"},
    "externalURL": "http://alertmanager.example.org:9093",
    "alerts": [
        {
            "status": "firing",
            "labels": {
                "alertname": "ModelDrift",
                "severity": "critical",
                "model": "churn",
                "dataset": "customers",
            },
            "annotations": {
                "summary": "Prediction drift above its limit",
                "metric": "psi",
                "value": "0.31",
                "threshold": "0.2",
            },
            "startsAt": "2026-12-07T09:52:26.739266876+02:00",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus.example.org:9090/graph?g0.expr=psi+%3E+0.2",
            "fingerprint": "1a30ba71cca2921f",
        },
        {
            "status": "resolved",
            "labels": {
                "alertname": "ModelDrift",
                "severity": "critical",
                "model": "fraud",
                "dataset": "payments",
            },
            "annotations": {"summary": "Prediction drift above its limit"},
            "startsAt": "2026-12-07T08:00:00Z",
            "endsAt": "2026-12-07T09:00:00Z",
            "generatorURL": "http://prometheus.example.org:9090/graph?g0.expr=psi+%3E+0.2",
            "fingerprint": "bc97ff14869b13e3",
        },
    ],
}

GRAFANA: dict[str, Any] = {
    "receiver": "My Super Webhook",
    "status": "firing",
    "orgId": 1,
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "High memory usage", "team": "blue", "zone": "us-1"},
            "annotations": {
                "description": "The system has high memory usage",
                "runbook_url": "https://myrunbook.com/runbook/1234",
                "summary": "This alert was triggered for zone us-1",
            },
            "startsAt": "2021-10-12T09:51:03.157076+02:00",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "https://play.grafana.org/alerting/1afz29v7z/edit",
            "fingerprint": "c6eadffa33fcdf37",
            "silenceURL": "https://play.grafana.org/alerting/silence/new?alertmanager=grafana",
            "dashboardURL": "",
            "panelURL": "",
            "values": {"B": 44.23943737541908, "C": 1},
            "valueString": "[ var='B' labels={} value=44.23943737541908 ]",
        },
        {
            "status": "firing",
            "labels": {"alertname": "High CPU usage", "team": "blue", "zone": "eu-1"},
            "annotations": {
                "description": "The system has high CPU usage",
                "runbook_url": "https://myrunbook.com/runbook/1234",
                "summary": "This alert was triggered for zone eu-1",
            },
            "startsAt": "2021-10-12T09:56:03.157076+02:00",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "https://play.grafana.org/alerting/d1rdpdv7k/edit",
            "fingerprint": "bc97ff14869b13e3",
            "silenceURL": "https://play.grafana.org/alerting/silence/new?alertmanager=grafana",
            "dashboardURL": "",
            "panelURL": "",
            "values": {"B": 44.23943737541908, "C": 1},
            "valueString": "[ var='B' labels={} value=44.23943737541908 ]",
        },
    ],
    "groupLabels": {},
    "commonLabels": {"team": "blue"},
    "commonAnnotations": {},
    "externalURL": "https://play.grafana.org/",
    "version": "1",
    "groupKey": '{}:{alertname="High memory usage"}',
    "truncatedAlerts": 0,
    "title": "[FIRING:2]  (blue)",
    "state": "alerting",
    "message": "**Firing**\n\nLabels:\n - alertname = T2\n - team = blue\n - zone = us-1",
}
