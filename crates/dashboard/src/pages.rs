//! The pages (one HTML shell, its script and style, embedded in the binary) and the chart
//! PNGs, drawn by the cockpit's charts (the same functions as Telegram's `/report`).

use axum::{
    extract::{Path, State},
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Router,
};
use hybrid_cockpit::charts;
use hybrid_core::Symbol;

use crate::{api::read, Dashboard};

const INDEX: &str = include_str!("../assets/index.html");
const SCRIPT: &str = include_str!("../assets/app.js");
const STYLE: &str = include_str!("../assets/style.css");

pub(crate) fn routes() -> Router<Dashboard> {
    Router::new()
        .route("/", get(page))
        .route("/cohorts", get(page))
        .route("/validator", get(page))
        .route("/health", get(page))
        .route("/coin/{cohort}/{symbol}", get(page))
        .route("/assets/app.js", get(script))
        .route("/assets/style.css", get(style))
        .route("/charts/overview", get(overview_chart))
        .route("/charts/cohorts", get(cohorts_chart))
        .route("/charts/tiers", get(tiers_chart))
        .route("/charts/cohort/{name}", get(cohort_chart))
        .route("/charts/coin/{cohort}/{symbol}", get(coin_chart))
}

async fn page(State(d): State<Dashboard>) -> Response {
    let html = INDEX.replace("{{REFRESH_MS}}", &d.settings.refresh_ms.to_string());
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        html,
    )
        .into_response()
}

async fn script() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        SCRIPT,
    )
        .into_response()
}

async fn style() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], STYLE).into_response()
}

/// Which chart to draw.
enum Chart {
    Overview,
    Cohorts,
    Tiers,
    Cohort(String),
    Coin(String, Symbol),
}

/// Draws `chart` off the async threads: a PNG, 404 with the reason when there is nothing to
/// draw yet, 500 when the database cannot be read.
async fn draw(d: Dashboard, chart: Chart) -> Response {
    let drawn = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, (StatusCode, String)> {
        let (snapshot, history) =
            read(&d).map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
        let png = match &chart {
            Chart::Overview => charts::overview_chart(&history, &snapshot),
            Chart::Cohorts => charts::cohorts_chart(&history),
            Chart::Tiers => charts::tiers_chart(&history),
            Chart::Cohort(name) => charts::cohort_chart(&history, &snapshot, name),
            Chart::Coin(cohort, symbol) => {
                let fills = d
                    .cockpit
                    .recent_fills(Some(symbol), 200)
                    .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
                charts::coin_chart(&history, &snapshot, cohort, symbol, &fills)
            }
        };
        png.map_err(|e| match e {
            hybrid_charts::ChartError::Empty(_) => (StatusCode::NOT_FOUND, e.to_string()),
            _ => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        })
    })
    .await;
    match drawn {
        Ok(Ok(png)) => (
            [
                (header::CONTENT_TYPE, "image/png"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            png,
        )
            .into_response(),
        Ok(Err((status, reason))) => (status, reason).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

async fn overview_chart(State(d): State<Dashboard>) -> Response {
    draw(d, Chart::Overview).await
}

async fn cohorts_chart(State(d): State<Dashboard>) -> Response {
    draw(d, Chart::Cohorts).await
}

async fn tiers_chart(State(d): State<Dashboard>) -> Response {
    draw(d, Chart::Tiers).await
}

async fn cohort_chart(State(d): State<Dashboard>, Path(name): Path<String>) -> Response {
    draw(d, Chart::Cohort(name)).await
}

async fn coin_chart(
    State(d): State<Dashboard>,
    Path((cohort, symbol)): Path<(String, String)>,
) -> Response {
    match Symbol::new(&symbol) {
        Ok(symbol) => draw(d, Chart::Coin(cohort, symbol)).await,
        Err(e) => (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    }
}
