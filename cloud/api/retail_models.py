"""Request and response models of the retail resources: transactions and conversion, alerts,
comparisons with earlier periods and the portfolio over several sites (for the OpenAPI
document). Times are ISO 8601 strings with the site's UTC offset."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TransactionRow(_Answer):
    store: str = Field(description="Id of the store's zone (a zone of kind store).", max_length=63)
    start: str = Field(
        description="Interval start, ISO 8601 (site-local if naive), on a boundary of the "
        "interval's length.",
        max_length=64,
        json_schema_extra={"format": "date-time"},
    )
    minutes: int = Field(default=60, description="Interval length: 15, 30 or 60.")
    transactions: int = Field(ge=0, le=10_000_000, description="Tills' transactions in it.")


class TransactionsIn(_Answer):
    rows: list[TransactionRow] = Field(max_length=10_000)


class TransactionsStored(_Answer):
    received: int = Field(description="Rows in the request.")
    new: int = Field(description="Intervals stored for the first time.")
    replaced: int = Field(description="Intervals sent before, whose figure was replaced.")


class ConversionRow(_Answer):
    bucket: datetime
    store_id: str
    visitors: int = Field(description="Distinct visitors who entered the store's zone.")
    transactions: int
    conversion: float | None = Field(description="transactions / visitors (null: no visitors).")
    reported: bool = Field(description="Whether transactions were sent for this bucket.")


class ConversionTotal(_Answer):
    store_id: str
    visitors: int = Field(description="Distinct visitors over the whole range.")
    transactions: int
    conversion: float | None


class Conversion(_Answer):
    timezone: str
    by: str = Field(description="hour or day.")
    staff_excluded: bool = Field(description="Whether staff were left out of the visitors.")
    rows: list[ConversionRow]
    stores: list[ConversionTotal]


class AlertRow(_Answer):
    id: int
    alert_key: str = Field(description="Rule and subject, e.g. 'occupancy:food-court'.")
    kind: str = Field(description="occupancy, entrances or camera.")
    subject: str = Field(description="The zone, 'entrances' or the camera it is about.")
    severity: str = Field(description="critical or warning.")
    message: str = Field(description="Why it fired.")
    detail: dict[str, object] = Field(description="The figures it fired on.")
    fired_at: datetime
    cleared_at: datetime | None = Field(description="When it cleared (null: still open).")
    clear_message: str | None
    deliveries: int = Field(description="Webhook deliveries queued for it (fired + cleared).")
    delivered: int
    pending: int = Field(description="Deliveries still being retried.")


class AlertRule(_Answer):
    kind: str
    subject: str
    description: str


class Alerts(_Answer):
    timezone: str
    open: int = Field(description="Alerts open now.")
    rules: list[AlertRule] = Field(description="The site's alert rules (its config's alerts:).")
    webhooks: list[str] = Field(description="Names of the webhooks alerts are sent to.")
    rows: list[AlertRow] = Field(description="Alerts open at some time in the range, newest first.")


class Period(_Answer):
    from_: datetime = Field(alias="from")
    to: datetime
    value: float | None
    change: float | None = Field(description="value now / value then - 1 (null: no base).")
    unavailable: str | None = Field(
        None, description="Why value is null when the kept rows cannot answer the range."
    )


class KpiComparison(_Answer):
    kpi: str
    label: str
    value: float | None = Field(description="Over the range asked for.")
    unavailable: str | None = Field(
        None, description="Why value is null when the kept rows cannot answer the range."
    )
    last_week: Period = Field(description="The same range 7 days before.")
    last_year: Period = Field(description="The same range 364 days (52 weeks) before.")


class Comparison(_Answer):
    model_config = ConfigDict(populate_by_name=True)

    timezone: str
    from_: datetime = Field(alias="from")
    to: datetime
    zone: str | None
    kpis: list[KpiComparison]


class PortfolioSite(_Answer):
    id: str
    name: str
    timezone: str
    from_: datetime = Field(alias="from")
    to: datetime
    entries: int
    entries_last_week: int
    entries_last_year: int
    change_last_week: float | None
    change_last_year: float | None
    unique_visitors: int | None = Field(
        description="Null when the day's per-person rows are past the raw retention (no rollup "
        "keeps distinct visitors): not available, never 0; the reason is in unavailable."
    )
    transactions: int
    conversion: float | None
    open_alerts: int
    unavailable: dict[str, str] = Field(
        default_factory=dict,
        description="Figure -> why it is null: the kept rows cannot answer that day.",
    )


class Portfolio(_Answer):
    sites: list[PortfolioSite] = Field(description="Every site the key may see, by name.")
    totals: dict[str, float | None] = Field(
        description="Sums over the sites: entries, entries_last_week, entries_last_year, "
        "unique_visitors, transactions, open_alerts; and change_last_week, change_last_year. "
        "Null where a site's figure is null (not available)."
    )
