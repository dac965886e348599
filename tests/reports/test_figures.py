"""Report figures from fixture orders: exact sums, statuses, refunds, currencies, zones."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from bridge.queue.models import LedgerRow
from bridge.queue.storage import Storage
from bridge.render.renderer import Renderer, RenderOptions
from bridge.reports.build import build_report, period_at
from bridge.reports.periods import PeriodError
from bridge.reports.text import plain_text, report_text
from tests.backends import Backend

HCM = ZoneInfo("Asia/Ho_Chi_Minh")  # UTC+7
SAO_PAULO = ZoneInfo("America/Sao_Paulo")  # UTC-3
#: 29 Nov 2026, 20:00 in Ho Chi Minh City = 13:00 UTC = 10:00 in São Paulo
NOW = dt.datetime(2026, 11, 29, 20, 0, tzinfo=HCM).timestamp()


def at(zone: ZoneInfo, day: int, hour: int, minute: int = 0) -> float:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=zone).timestamp()


def row(
    store: str,
    order_id: str,
    status: str,
    currency: str,
    total: str,
    created: float,
    *,
    refunded: str = "0",
    items: tuple[tuple[str, int, str], ...] = (),
    customer: str = "",
) -> LedgerRow:
    return LedgerRow(
        store, order_id, status, currency, total, refunded, items, customer, created, ""
    )


ROWS = [
    # Ho Chi Minh City store, VND
    row("hcm", "1", "completed", "VND", "1500000", at(HCM, 29, 0, 30),
        items=(("Áo dài", 2, "1200000"), ("Nón lá", 1, "300000")), customer="id:1"),
    row("hcm", "2", "processing", "VND", "500000", at(HCM, 28, 23, 59), refunded="100000",
        items=(("Nón lá", 1, "500000"),), customer="id:2"),
    row("hcm", "3", "cancelled", "VND", "300000", at(HCM, 29, 10)),
    row("hcm", "4", "refunded", "VND", "200000", at(HCM, 29, 11), refunded="200000"),
    row("hcm", "5", "on-hold", "VND", "250000", at(HCM, 29, 12)),
    row("hcm", "6", "completed", "VND", "700000", at(HCM, 29, 19), refunded="50000",
        items=(("Nón lá", 3, "700000"),), customer="id:2"),
    # São Paulo store, BRL: 23:50 on the 28th there is 09:50 on the 29th in Ho Chi Minh
    row("sp", "10", "completed", "BRL", "1234.56", at(SAO_PAULO, 28, 23, 50),
        items=(("Camiseta", 1, "1234.56"),), customer="guest:ab"),
    row("sp", "11", "completed", "BRL", "100.00", at(SAO_PAULO, 29, 0, 10),
        items=(("Caneca", 4, "100.00"),), customer="guest:cd"),
    # the same store sells in US dollars too: never added to the reais
    row("sp", "12", "completed", "USD", "1234.50", at(SAO_PAULO, 29, 9),
        items=(("Caneca", 2, "1234.50"),)),
]  # fmt: skip


@pytest.fixture
async def ledger(backend: Backend) -> AsyncIterator[Storage]:
    store = await backend.open()
    for one in ROWS:
        await store.record_ledger(one)
    yield store
    await store.close()


async def test_today_in_ho_chi_minh_city(ledger: Storage) -> None:
    report = await build_report(ledger, period_at("today", NOW, HCM), only_store="hcm")
    ((store, (vnd,)),) = report.stores
    assert (store, vnd.currency) == ("hcm", "VND")
    # paid: #1 (1,500,000) and #6 (700,000 less a 50,000 refund)
    assert (vnd.orders, vnd.revenue, vnd.refunds) == (2, Decimal(2150000), Decimal(50000))
    assert vnd.average == Decimal("1075000.00")
    assert dict(vnd.by_status) == {"completed": 2, "cancelled": 1, "refunded": 1, "on-hold": 1}
    assert vnd.lost == (("cancelled", 1), ("refunded", 1))
    assert [(p.name, p.quantity) for p in vnd.top_by_quantity] == [("Nón lá", 4), ("Áo dài", 2)]
    assert [(p.name, p.revenue) for p in vnd.top_by_revenue] == [
        ("Áo dài", Decimal(1200000)),
        ("Nón lá", Decimal(1000000)),
    ]
    # id:2 ordered yesterday (#2, 23:59 local): only id:1 is new today
    assert vnd.new_customers == 1
    # yesterday: #2, 500,000 less 100,000
    assert (vnd.previous_orders, vnd.previous_revenue) == (1, Decimal(400000))
    assert vnd.change() == (438, 100)
    assert len(vnd.series) == 24
    assert vnd.series[0] == (Decimal(1500000), 1)
    assert vnd.series[19] == (Decimal(650000), 1)


async def test_midnight_is_the_report_zones_midnight(ledger: Storage) -> None:
    # In São Paulo, #10 (23:50 on the 28th) is yesterday's and #11 (00:10) today's ...
    today_sp = await build_report(ledger, period_at("today", NOW, SAO_PAULO), only_store="sp")
    brl = today_sp.stores[0][1][0]
    assert (brl.currency, brl.orders, brl.revenue) == ("BRL", 1, Decimal("100.00"))
    assert (brl.previous_orders, brl.previous_revenue) == (1, Decimal("1234.56"))
    # ... while in Ho Chi Minh City both fall on the 29th.
    today_hcm = await build_report(ledger, period_at("today", NOW, HCM), only_store="sp")
    brl = today_hcm.stores[0][1][0]
    assert (brl.orders, brl.revenue) == (2, Decimal("1334.56"))


async def test_several_stores_have_a_total_per_currency_never_mixed(ledger: Storage) -> None:
    report = await build_report(ledger, period_at("7d", NOW, HCM), stores=("hcm", "sp"))
    assert [(s, [f.currency for f in fs]) for s, fs in report.stores] == [
        ("hcm", ["VND"]),
        ("sp", ["BRL", "USD"]),
    ]
    totals = {f.currency: (f.orders, f.revenue) for f in report.totals}
    assert totals == {
        "BRL": (2, Decimal("1334.56")),
        "USD": (1, Decimal("1234.50")),
        "VND": (3, Decimal(2550000)),
    }
    assert report.period.days == 7
    assert len(report.totals[0].series) == 7


async def test_the_report_reads_in_three_languages(ledger: Storage) -> None:
    renderer = Renderer(RenderOptions(timezone=HCM))
    report = await build_report(ledger, period_at("today", NOW, HCM), only_store="hcm")
    texts = {
        lang: _lines(report_text(report, renderer.formatter(lang)))
        for lang in ("en", "vi", "pt_BR")
    }
    assert texts["en"][:9] == [
        "📊 Sales report: Today",
        "Nov 29, 2026",
        "",
        "Orders: 2 (+100% vs the day before)",
        "Revenue: ₫2,150,000 (+438% vs the day before)",
        "Refunds subtracted: ₫50,000",
        "Average order value: ₫1,075,000",
        "New customers: 1",
        "Left out: Cancelled 1, Refunded 1",
    ]
    assert texts["vi"][:9] == [
        "📊 Báo cáo bán hàng: Hôm nay",
        "29 thg 11, 2026",
        "",
        "Đơn hàng: 2 (+100% so với hôm trước)",
        "Doanh thu: 2.150.000 ₫ (+438% so với hôm trước)",
        "Đã trừ hoàn tiền: 50.000 ₫",
        "Giá trị trung bình mỗi đơn: 1.075.000 ₫",
        "Khách hàng mới: 1",
        texts["vi"][8],
    ]
    assert texts["vi"][8].startswith("Không tính: ")
    assert texts["pt_BR"][:8] == [
        "📊 Relatório de vendas: Hoje",
        "29 de nov. de 2026",
        "",
        "Pedidos: 2 (+100% vs. o dia anterior)",
        "Receita: ₫ 2.150.000 (+438% vs. o dia anterior)",
        "Reembolsos descontados: ₫ 50.000",
        "Ticket médio: ₫ 1.075.000",
        "Clientes novos: 1",
    ]
    assert "1. Nón lá · 4" in texts["en"]
    assert "1. Áo dài · ₫1,200,000" in texts["en"]


async def test_brazilian_money_and_the_ledgers_first_day(ledger: Storage) -> None:
    renderer = Renderer(RenderOptions(timezone=SAO_PAULO))
    report = await build_report(ledger, period_at("30d", NOW, SAO_PAULO), only_store="sp")
    text = plain_text(report_text(report, renderer.formatter("pt_BR"))).replace("\xa0", " ")
    assert "Receita: R$ 1.334,56" in text
    assert "Receita: US$ 1.234,50" in text
    # the ledger starts on the 28th, inside the 30 days: the report says so
    assert "Os números começam em 28 de nov. de 2026" in text


def _lines(message: str) -> list[str]:
    return plain_text(message).replace("\xa0", " ").splitlines()


def test_an_unknown_period_lists_the_choices() -> None:
    with pytest.raises(PeriodError, match="today, yesterday, week, month, 7d, 30d"):
        period_at("fortnight", NOW, HCM)
    with pytest.raises(PeriodError, match="YYYY-MM-DD"):
        period_at("2026-02-30", NOW, HCM)
    day = period_at("2026-11-28", NOW, HCM)
    assert (day.start.isoformat(), day.end.isoformat()) == (
        "2026-11-28T00:00:00+07:00",
        "2026-11-29T00:00:00+07:00",
    )
