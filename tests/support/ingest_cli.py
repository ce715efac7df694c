"""The `footfall cloud ingest` command line the integration tests run, in one place."""

from __future__ import annotations

from pathlib import Path

DEMO_SITE = Path(__file__).resolve().parents[2] / "configs" / "sites" / "demo.yaml"


def ingest_args(
    database_url: str,
    servers: str,
    ns: str,
    *extra: str,
    site_file: Path = DEMO_SITE,
    sites_dir: Path | None = None,
) -> list[str]:
    """Ingest of one topic namespace into one database, deriving after every batch and keeping
    all data (the test data is days old: retention must not drop it); ``extra`` appended.
    The sites are ``site_file``'s, or with ``sites_dir`` those of that folder."""
    sites = ["--sites-dir", str(sites_dir)] if sites_dir else ["--site", str(site_file)]
    return [
        "cloud",
        "ingest",
        "--database-url",
        database_url,
        "--bootstrap-servers",
        servers,
        *sites,
        "--topic-namespace",
        ns,
        "--group-id",
        f"ingest-{ns}",
        "--analytics-interval-s",
        "0",
        "--retain-observations-days",
        "100000",
        "--retain-rollups-days",
        "100000",
        "--retain-embeddings-hours",
        "10000000",
        *extra,
    ]
