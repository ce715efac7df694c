"""Point-of-sale transactions in (JSON or CSV) and conversion out, per store, hour and day."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse

from cloud.analytics import conversion as pos
from cloud.analytics.sealed import Unanswerable
from cloud.api import retail_models as models
from cloud.api.deps import AuthorisedSite, Db, span
from cloud.api.params import TimeRange, parse_time, unprocessable
from cloud.api.render import localise
from footfall.site import Site

router = APIRouter(tags=["conversion"])

MAX_CSV_BYTES = 2_000_000
CSV_COLUMNS = ("store", "start", "minutes", "transactions")
SOLD = span("today 00:00 (site time), or a day before `to`", "a day after `from`")


def _rows(site: Site, given: list[models.TransactionRow]) -> list[pos.Transactions]:
    tz = ZoneInfo(site.site.timezone)
    out = []
    for i, g in enumerate(given):
        row = pos.Transactions(
            g.store, parse_time(g.start, f"row {i + 1} start", tz), g.minutes, g.transactions
        )
        try:
            pos.check_row(site, row, f"row {i + 1}")
        except pos.TransactionError as exc:
            raise unprocessable(str(exc)) from None
        out.append(row)
    return out


async def _store(db: Db, site: Site, rows: list[pos.Transactions]) -> JSONResponse:
    try:
        new, replaced = await db.run(pos.store_transactions, site.id, rows)
    except pos.TransactionError as exc:
        raise HTTPException(409, str(exc)) from None
    return JSONResponse({"received": len(rows), "new": new, "replaced": replaced})


STORED: dict[int | str, dict[str, Any]] = {
    409: {"description": "A row overlaps a stored interval of another length for that store."}
}


@router.post(
    "/transactions",
    response_model=models.TransactionsStored,
    summary="Store transactions per store and interval (idempotent: resending replaces)",
    description="Each row: the store's zone id, the interval's start and length (15, 30 or 60 "
    "minutes on the site's clock) and the transactions in it. All rows are stored or none.",
    responses=STORED,
)
async def post_transactions(
    site: AuthorisedSite, db: Db, body: models.TransactionsIn
) -> JSONResponse:
    return await _store(db, site, _rows(site, body.rows))


@router.post(
    "/transactions/csv",
    response_model=models.TransactionsStored,
    summary="Upload transactions as CSV: store,start,minutes,transactions",
    description="The request body is the CSV file (Content-Type: text/csv), a header line "
    "with the columns store, start, minutes, transactions, then one row per store and "
    "interval. Same rules as POST /transactions.",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    },
    responses=STORED,
)
async def post_transactions_csv(site: AuthorisedSite, db: Db, request: Request) -> JSONResponse:
    raw = await request.body()
    if len(raw) > MAX_CSV_BYTES:
        raise HTTPException(413, f"the CSV is over {MAX_CSV_BYTES:,} bytes; send it in parts")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise unprocessable("the CSV is not UTF-8 text; save it as UTF-8") from None
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in CSV_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise unprocessable(
            f"the CSV lacks the column(s) {', '.join(missing)}; its first line must be "
            f"{','.join(CSV_COLUMNS)}"
        )
    given: list[models.TransactionRow] = []
    for line, rec in enumerate(reader, start=2):
        if len(given) >= pos.MAX_ROWS:
            raise unprocessable(f"the CSV has over {pos.MAX_ROWS:,} rows; send it in parts")
        try:
            given.append(
                models.TransactionRow(
                    store=(rec["store"] or "").strip(),
                    start=(rec["start"] or "").strip(),
                    minutes=int((rec["minutes"] or "60").strip() or 60),
                    transactions=int((rec["transactions"] or "").strip()),
                )
            )
        except (ValueError, TypeError, AttributeError):
            raise unprocessable(
                f"CSV line {line}: minutes and transactions must be whole numbers "
                f"(got {rec.get('minutes')!r}, {rec.get('transactions')!r})"
            ) from None
    rows = _rows(site, given)
    return await _store(db, site, rows)


BY = {"hour": timedelta(hours=1), "day": timedelta(days=1)}


@router.get(
    "/conversion",
    response_model=models.Conversion,
    summary="Conversion per store: transactions / visitors who entered its zone, per hour or day",
    description="Visitors are distinct per hour or day (per day, summed, for the stores' "
    "totals); staff left out. Days older than the raw retention come from rollups kept with "
    "the footfall counts, with the same figures; such a range must start and end on the hour "
    "(422 with a sentence otherwise, or when the figures of the range were never kept).",
)
async def get_conversion(
    site: AuthorisedSite,
    db: Db,
    r: Annotated[TimeRange, Depends(SOLD)],
    by: Annotated[str, Query(pattern="^(hour|day)$", description="hour or day.")] = "hour",
    store: Annotated[
        list[str] | None,
        Query(description="Store zone id(s); default every store.", max_length=100),
    ] = None,
) -> JSONResponse:
    tz = ZoneInfo(site.site.timezone)
    stores = pos.store_ids(site)
    if store:
        unknown = [s for s in store if s not in stores]
        if unknown:
            raise unprocessable(
                f"store {unknown[0]!r} is not a store of this site; use one of "
                f"{', '.join(stores) or '(none)'}"
            )
        stores = list(dict.fromkeys(store))
    try:
        rows = await db.run(pos.conversion, site, stores, r.start, r.end, BY[by])
        totals = await db.run(pos.conversion_totals, site, stores, r.start, r.end)
    except Unanswerable as exc:
        raise unprocessable(str(exc)) from None
    return JSONResponse(
        {
            "timezone": tz.key,
            "by": by,
            "staff_excluded": True,
            "rows": localise(rows, tz),
            "stores": list(totals.values()),
        }
    )
