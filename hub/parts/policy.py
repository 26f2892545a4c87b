"""When a part must be ordered: daily use from its recent movements, the run-out, `order_by`."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

WINDOW_DAYS = 90
"""Use is averaged over the last months (less for a part newer than that)."""
MIN_WINDOW_DAYS = 7
MARGIN_DAYS = 3
"""The least days of stock kept in hand beyond the supplier's lead time."""
SAFETY_Z = 2.0
"""Failures come at random (Poisson): the margin also covers two standard deviations of the
use over the lead time, so a busy month does not empty the shelf before the delivery."""


@dataclass(frozen=True)
class PartOutlook:
    """A part's forecast: use per day, the day stock runs out, the day to order by."""

    daily_use: float
    runs_out_on: date | None
    order_by: date | None

    def due(self, today: date) -> bool:
        """Whether the order-by day has come."""
        return self.order_by is not None and self.order_by <= today


def outlook(
    *,
    used: int,
    window_days: float,
    stock: int,
    on_order: int,
    min_stock: int,
    lead_days: int,
    today: date,
) -> PartOutlook:
    """The forecast of a part that used `used` units over the last `window_days` days.

    Stock on order counts as coming; `order_by` is the run-out day minus the lead time and
    the margin (at least three days, the minimum stock's worth, and two standard deviations
    of the use over the lead time), and today at the latest once stock and order together
    are at the minimum.
    """
    days = max(window_days, MIN_WINDOW_DAYS)
    daily = used / days if used > 0 else 0.0
    have = stock + on_order
    if daily <= 0:
        order_by = today if have <= min_stock and min_stock > 0 else None
        return PartOutlook(0.0, None, order_by)
    runs_out_on = today + timedelta(days=math.floor(have / daily))
    margin = max(MARGIN_DAYS, min_stock / daily, SAFETY_Z * math.sqrt(daily * lead_days) / daily)
    order_by = runs_out_on - timedelta(days=lead_days + math.ceil(margin))
    if have <= min_stock:
        order_by = min(order_by, today)
    return PartOutlook(round(daily, 4), runs_out_on, order_by)
