// Hybrid dashboard: renders the page named by the path from the JSON API under /api/ and
// polls it. Money arrives as exact decimal strings and is rounded here on the string (half
// away from zero), never through floating point.
"use strict";

const REFRESH_MS = Number(document.body.dataset.refreshMs) || 5000;
const TOKEN = new URLSearchParams(location.search).get("token");
let lastAsOf = null;
let chartStamp = Date.now();

function withToken(url) {
  if (!TOKEN) return url;
  return url + (url.includes("?") ? "&" : "?") + "token=" + encodeURIComponent(TOKEN);
}

async function api(path) {
  const response = await fetch(withToken(path), { cache: "no-store" });
  if (!response.ok) {
    let detail = response.statusText;
    try { detail = (await response.json()).error || detail; } catch (_) { /* not JSON */ }
    throw new Error(path + ": " + response.status + " " + detail);
  }
  return response.json();
}

function esc(text) {
  return String(text ?? "").replace(/[&<>"']/g, c => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}

/** A decimal string rounded to `dp` places, half away from zero, without floating point. */
function decimal(text, dp = 2) {
  if (text === null || text === undefined) return "–";
  let s = String(text).trim();
  const negative = s.startsWith("-");
  if (negative) s = s.slice(1);
  let [whole, frac = ""] = s.split(".");
  frac = (frac + "0".repeat(dp + 1)).slice(0, dp + 1);
  let scaled = BigInt(whole + frac.slice(0, dp));
  if (Number(frac[dp]) >= 5) scaled += 1n;
  let digits = scaled.toString().padStart(dp + 1, "0");
  let out = dp > 0 ? digits.slice(0, -dp) + "." + digits.slice(-dp) : digits;
  return (negative && scaled !== 0n ? "-" : "") + out;
}

function signed(text, dp = 2) {
  const d = decimal(text, dp);
  return d === "–" || d.startsWith("-") ? d : "+" + d;
}

function cls(text) {
  if (text === null || text === undefined) return "";
  return String(text).startsWith("-") ? "neg" : (Number(text) > 0 ? "pos" : "");
}

function time(ms) {
  if (ms === null || ms === undefined) return "never";
  return new Date(ms).toISOString().replace("T", " ").slice(0, 16) + " UTC";
}

function link(href, text) {
  return `<a data-nav href="${esc(href)}">${esc(text)}</a>`;
}

/** A chart image; a 404 (nothing to draw yet) turns into a note saying why. */
function chart(id, src, alt) {
  return `<figure class="chart"><img id="${esc(id)}" class="chart-img" data-src="${esc(src)}" alt="${esc(alt)}"></figure>`;
}

function loadCharts(force) {
  if (force) chartStamp = Date.now();
  for (const img of document.querySelectorAll("img.chart-img")) {
    const url = withToken(img.dataset.src + "?t=" + chartStamp);
    if (img.dataset.loaded === url) continue;
    img.dataset.loaded = url;
    fetch(url, { cache: "no-store" }).then(async response => {
      if (response.ok) {
        const blob = await response.blob();
        img.src = URL.createObjectURL(blob);
        img.hidden = false;
        img.parentElement.querySelector(".nodata")?.remove();
      } else if (response.status === 404) {
        img.hidden = true;
        const note = img.parentElement.querySelector(".nodata") || document.createElement("p");
        note.className = "nodata muted";
        note.textContent = "No chart yet: " + (await response.text());
        img.parentElement.appendChild(note);
      } else {
        showError(img.dataset.src + ": " + response.status + " " + (await response.text()));
      }
    }).catch(e => showError(String(e)));
  }
}

function card(id, label, value, extra = "", tone = "") {
  return `<div class="card"><div class="label">${esc(label)}</div>
    <div class="value ${tone}" id="${esc(id)}">${esc(value)}</div><div class="muted">${extra}</div></div>`;
}

function table(headers, rows, id = "") {
  return `<table${id ? ` id="${esc(id)}"` : ""}><thead><tr>${headers.map(h => `<th>${esc(h)}</th>`).join("")}</tr></thead>
    <tbody>${rows.length ? rows.join("") : `<tr><td colspan="${headers.length}" class="muted">none</td></tr>`}</tbody></table>`;
}

async function overview() {
  const o = await api("/api/overview");
  const t = o.total;
  let html = `<h1>Overview <span class="muted small">as of ${esc(time(o.as_of))}${o.paused ? " · <b>PAUSED</b>" : ""}</span></h1>
  <section class="cards">
    ${card("total-equity", "Equity", decimal(t.equity), "first snapshot " + decimal(t.first_equity))}
    ${card("total-buy-and-hold", "Buy-and-hold", decimal(t.buy_and_hold), "same coins, same start")}
    ${card("total-realised", "Realised P&L", signed(t.realised_pnl), "closed trades", cls(t.realised_pnl))}
    ${card("today-pnl", "Today's P&L", signed(t.today_pnl), t.today_trades + " trade(s) closed today (UTC)", cls(t.today_pnl))}
    ${card("drawdown", "Drawdown", t.drawdown_pct === null ? "–" : decimal(t.drawdown_pct) + " %", "deepest " + (t.max_drawdown_pct === null ? "–" : decimal(t.max_drawdown_pct) + " %"), cls(t.drawdown_pct))}
  </section>
  ${chart("chart-overview", "/charts/overview", "Equity of all cohorts against buy-and-hold, modes per coin, drawdown")}
  <h2>Cohorts</h2>
  ${table(["Cohort", "Equity", "Buy-and-hold", "Realised P&L", "Win rate", "Closed", "Open orders", "Today", "Coins"],
    o.cohorts.map(c => `<tr data-cohort="${esc(c.name)}"><td>${esc(c.name)}${c.active ? "" : " (inactive)"}</td>
      <td class="num" data-field="equity">${decimal(c.equity)}</td><td class="num">${decimal(c.buy_and_hold)}</td>
      <td class="num ${cls(c.realised_pnl)}" data-field="realised">${signed(c.realised_pnl)}</td>
      <td class="num">${c.win_rate_pct === null ? "–" : decimal(c.win_rate_pct, 1) + " %"}</td>
      <td class="num" data-field="closed">${c.closed_trades}</td><td class="num" data-field="open-orders">${c.open_orders}</td>
      <td class="num ${cls(c.today_pnl)}">${signed(c.today_pnl)}</td>
      <td>${c.coins.map(x => link(`/coin/${encodeURIComponent(c.name)}/${encodeURIComponent(x.symbol)}`, `${x.symbol} ${x.mode}`)).join(" ")}</td></tr>`), "cohorts-table")}
  ${chart("chart-cohorts", "/charts/cohorts", "The cohorts' equity side by side")}
  <h2>Portfolio tiers</h2>`;
  if (o.tiers && o.tiers.written_at !== null) {
    html += table(["Tier", "Value", "Share", "Target", "Drift"], o.tiers.breakdown.tiers.map(s =>
      `<tr><td>${esc(s.kind)}</td><td class="num">${decimal(s.value)}</td><td class="num">${decimal(s.current_pct)} %</td>
       <td class="num">${decimal(s.target_pct)} %</td><td class="num">${signed(s.drift_pp)} pp</td></tr>`))
      + chart("chart-tiers", "/charts/tiers", "The portfolio tiers stacked");
  } else {
    html += `<p class="muted" id="tiers-none">The portfolio manager has not written tier values to this database.</p>`;
  }
  return { html, asOf: o.as_of };
}

async function coin(cohort, symbol) {
  const c = await api(`/api/coins/${encodeURIComponent(cohort)}/${encodeURIComponent(symbol)}`);
  const sw = c.last_switch;
  const html = `<h1>${esc(c.symbol)} <span class="muted small">${esc(c.cohort)}</span></h1>
  <section class="cards">
    ${card("coin-mode", "Mode", c.mode)}
    ${card("coin-regime", "Regime", c.regime || "–", c.regime_probability === null ? "" : "probability " + decimal(c.regime_probability, 2))}
    ${card("coin-price", "Last price", decimal(c.last_price, 8).replace(/\.?0+$/, ""), time(c.last_price_at))}
    ${card("coin-position", "Position", decimal(c.position_quantity, 8).replace(/\.?0+$/, "") , "cost " + decimal(c.position_cost))}
    ${card("coin-stop", "Stop", c.stop ? c.stop.stop_price : "none", c.stop ? `${esc(c.stop.kind)}, ${esc(c.stop.distance_pct)} % below` : "")}
  </section>
  <p id="coin-last-switch">${sw ? `Last switch ${esc(time(sw.at))}: ${esc(sw.from)} → ${esc(sw.to)} — ${esc(sw.reason)}` : "No mode switch recorded in the chart window."}</p>
  ${chart("chart-coin", `/charts/coin/${encodeURIComponent(c.cohort)}/${encodeURIComponent(c.symbol)}`, "Price with open orders, stop and fills")}
  <h2>Open orders</h2>
  ${table(["Side", "Price", "Quantity", "Filled", "Status", "Since", "Client order id"], c.open_orders.map(o =>
    `<tr><td>${esc(o.side)}</td><td class="num">${esc(o.price ?? "market")}</td><td class="num">${esc(o.quantity)}</td>
     <td class="num">${esc(o.filled_quantity)}</td><td>${esc(o.status)}</td><td>${esc(time(o.created_at))}</td><td class="mono">${esc(o.client_order_id)}</td></tr>`), "orders-table")}
  <h2>Recent fills</h2>
  ${table(["Time", "Side", "Price", "Quantity", "Fee"], c.recent_fills.map(f =>
    `<tr><td>${esc(time(f.fill.time))}</td><td>${esc(f.fill.side)}</td><td class="num">${esc(f.fill.price)}</td>
     <td class="num">${esc(f.fill.quantity)}</td><td class="num">${esc(f.fill.commission)}</td></tr>`), "fills-table")}
  <h2>Mode history</h2>
  <ul>${(c.switches || []).slice(-10).reverse().map(s => `<li>${esc(s)}</li>`).join("") || "<li class=muted>none</li>"}</ul>`;
  return { html, asOf: c.last_price_at };
}

async function cohorts() {
  const r = await api("/api/cohorts");
  const verdicts = { BetterThanBaseline: "better than baseline", WorseThanBaseline: "worse than baseline",
    NotYetDistinguishable: "not yet distinguishable", NotEnoughData: "not enough data" };
  const pct3 = x => (x >= 0 ? "+" : "") + Number(x).toFixed(3);
  const rows = r.ranking.entries.map(e => {
    const p = e.performance, ci = e.vs_baseline, t = p.trades || {};
    return `<tr data-cohort="${esc(p.cohort)}"><td>${e.rank}</td><td>${esc(p.cohort)}</td>
      <td class="num ${cls(p.return_pct)}" data-field="return">${signed(p.return_pct)} %</td>
      <td class="num">${decimal(p.final_equity)}</td>
      <td class="num">${p.sharpe === null ? "–" : Number(p.sharpe).toFixed(2)}</td>
      <td class="num">${p.max_drawdown_pct === null ? "–" : decimal(p.max_drawdown_pct) + " %"}</td>
      <td class="num">${t.n_trades ?? "–"}</td>
      <td class="num">${decimal(p.fees)}</td>
      <td class="num">${ci ? `${pct3(ci.mean_pct)} [${pct3(ci.low_pct)}, ${pct3(ci.high_pct)}] over ${ci.days} d` : "–"}</td>
      <td>${esc(verdicts[e.verdict] || e.verdict)}${p.note ? ` <span class="muted">(${esc(p.note)})</span>` : ""}</td></tr>`;
  });
  const html = `<h1>Cohorts ranking</h1>
  <p class="muted">By return; each cohort's mean daily return minus the baseline's (${esc(r.baseline)}) with a 95 % bootstrap interval (${r.ranking.resamples} resamples, seed ${r.ranking.seed}).
  ${r.ranking.spread_pct === null ? "" : "Spread best − worst: " + decimal(r.ranking.spread_pct) + " pp."}</p>
  ${table(["#", "Cohort", "Return", "Final equity", "Sharpe", "Max drawdown", "Trades", "Fees", "vs baseline, % per day [95 % CI]", "Verdict"], rows, "ranking-table")}
  ${chart("chart-cohorts", "/charts/cohorts", "The cohorts' equity side by side")}`;
  return { html, asOf: null };
}

async function validator() {
  const v = await api("/api/validation");
  const rep = v.report;
  const html = `<h1>Validator and deployment</h1>
  <section class="cards">
    ${card("phase", "Deployment phase", v.phase, `up to ${decimal(v.phase_limits.max_capital_usd, 0)} USDT, ${v.phase_limits.max_cohorts} cohorts`)}
    ${card("validator-verdict", "Production readiness", rep.is_ready ? "READY" : "NOT READY", `${rep.passed_count}/${rep.total_count} criteria passed (${decimal(rep.progress_pct, 1)} %)`, rep.is_ready ? "pos" : "neg")}
  </section>
  ${v.anything_recorded ? "" : `<p class="muted">Nothing the criteria read is recorded in this database yet.</p>`}
  ${table(["", "Criterion", "Value", "Needed", "Detail"], rep.results.map(r =>
    `<tr><td>${r.passed ? "✅" : "❌"}</td><td>${esc(r.name)}</td><td>${esc(r.value)}</td><td>${esc(r.threshold)}</td><td>${esc(r.message)}</td></tr>`), "criteria-table")}`;
  return { html, asOf: null };
}

async function health() {
  const h = await api("/api/health");
  const beat = h.heartbeat;
  const rec = h.last_reconciliation_finding;
  const html = `<h1>Health <span class="muted small">${esc(time(h.now))}</span></h1>
  <section class="cards">
    ${card("heartbeat-age", "Heartbeat age", beat ? beat.age_secs + " s" : "no heartbeat file", beat ? esc(beat.content) : "", beat && beat.age_secs > 300 ? "neg" : "")}
    ${card("exchange-weight", "Exchange weight used", h.exchange_weight_used === null ? "not reported" : String(h.exchange_weight_used), "of 6000 per minute (Binance)")}
    ${card("outbox-backlog", "Outbox backlog", String(h.outbox.pending), `${h.outbox.abandoned} abandoned · last sent ${esc(time(h.outbox.last_sent_at))}`, h.outbox.pending > 20 ? "neg" : "")}
    ${card("reconciliation", "Last reconciliation finding", rec ? time(rec.at) : "none", rec ? esc(rec.findings) : (h.reconciliations_run === null ? "" : h.reconciliations_run + " run(s), all clean"))}
  </section>
  ${table(["Cohort", "Last candle traded", "State saved"], h.cohorts.map(c =>
    `<tr><td>${esc(c.name)}</td><td>${esc(time(c.last_candle_close))}</td><td>${esc(time(c.state_saved_at))}</td></tr>`), "health-table")}`;
  return { html, asOf: null };
}

function route() {
  const parts = location.pathname.split("/").filter(Boolean).map(decodeURIComponent);
  if (parts[0] === "coin" && parts.length === 3) return () => coin(parts[1], parts[2]);
  if (parts[0] === "cohorts") return cohorts;
  if (parts[0] === "validator") return validator;
  if (parts[0] === "health") return health;
  return overview;
}

function showError(message) {
  const box = document.getElementById("error");
  box.textContent = "Error: " + message;
  box.hidden = false;
}

async function refresh() {
  try {
    const { html, asOf } = await route()();
    document.getElementById("page").innerHTML = html;
    for (const a of document.querySelectorAll("a[data-nav]")) {
      const href = a.getAttribute("href");
      if (TOKEN && !href.includes("token=")) a.setAttribute("href", withToken(href));
    }
    const changed = asOf !== lastAsOf;
    lastAsOf = asOf;
    loadCharts(changed);
    document.getElementById("error").hidden = true;
    document.getElementById("status").textContent = "updated " + new Date().toISOString().slice(11, 19) + " UTC";
    document.body.dataset.ready = "true";
  } catch (e) {
    showError(e.message || String(e));
    document.body.dataset.ready = "error";
  }
}

refresh();
setInterval(refresh, REFRESH_MS);
