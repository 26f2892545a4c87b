"""The forecasts bench cell on a tiny replay: every figure is there and plausible."""

from __future__ import annotations

from benchmarks import forecasts


def test_the_cell_gives_every_figure_on_a_small_replay() -> None:
    dispensers = forecasts.dispensers(8, 3)
    assert 0 <= dispensers["dispenser_empty_pct_forecast"] <= 100
    assert dispensers["dispenser_orders_threshold"] > 0
    assert dispensers["runs_out_error_2h_samples"] > 0
    batteries = forecasts.batteries(40, 3)
    assert batteries["battery_silent_pct"] == 0
    lamps = forecasts.lamps()
    assert lamps["lamp_reorder_lead_days"] >= lamps["lamp_lead_goal_days"]
    assert lamps["lamp_lowest_stock_with_orders"] >= 0
    cost = forecasts.cost(100)
    assert cost["forecast_pass_tracks"] == 200
    assert cost["forecast_pass_s"] > 0
