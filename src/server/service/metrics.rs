//! The metrics board: every figure of one query, computed by the database (the queries run
//! side by side on the pool, at most [`Boards`]'s share of it at once), and identical views
//! asked for at the same time computed once.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use chrono::NaiveDate;
use sqlx::AnyPool;
use tokio::sync::{OnceCell, Semaphore};

use crate::model::AppError;
use crate::model::board::{Board, BoardRequest, Bucket, MeasureFigures, TrendPoint, buckets};
use crate::model::incident::{IncidentStatus, Severity};
use crate::model::metrics::{ActionFigures, BoardFilter, DurationStats, MEDIAN, Measure, P90};
use crate::model::rollup::{self, Split};
use crate::server::repo::metrics::{self as repo, Breakdown, Items};
use crate::server::repo::rollups;

/// One board being computed, shared by every request for the same view that arrives meanwhile.
type InFlight = Arc<OnceCell<Result<Board, AppError>>>;

/// The boards of one instance: how many of the pool's connections their queries may take at
/// once, and the views being computed right now.
///
/// A refresh storm (a wall screen and a room of managers on the same view) costs one computation
/// at a time per view: a request for a view already being computed waits for that computation
/// and shares its result, never a finished one (no figure is older than the request that shows
/// it by more than one computation). Whatever the views, the board's queries together hold at
/// most `slots` connections, so the incident pages keep the rest of the pool.
pub struct Boards {
    slots: Semaphore,
    in_flight: Mutex<HashMap<String, InFlight>>,
    computed: AtomicU64,
    rollups: bool,
    exact_up_to: u64,
}

impl Boards {
    /// Boards whose queries take at most half of a pool of `pool_size` connections (at least one).
    pub fn for_pool(pool_size: u32) -> Self {
        Self::with_slots((pool_size as usize / 2).max(1))
    }

    /// Boards whose queries take at most `slots` connections at once.
    pub fn with_slots(slots: usize) -> Self {
        Self {
            slots: Semaphore::new(slots.max(1)),
            in_flight: Mutex::default(),
            computed: AtomicU64::new(0),
            rollups: true,
            exact_up_to: rollup::EXACT_UP_TO,
        }
    }

    /// Counting every incident of the range, never reading the monthly rollups (tests compare
    /// the two).
    pub fn without_rollups(mut self) -> Self {
        self.rollups = false;
        self
    }

    /// Ranking the durations exactly for a median and p90 up to `n` durations in a range read
    /// from the rollups, and reading them off the histogram beyond (tests use 0).
    pub fn exact_up_to(mut self, n: u64) -> Self {
        self.exact_up_to = n;
        self
    }

    /// The board for `request` as of `today`: computed, or shared with the identical request
    /// being computed.
    pub async fn view(
        &self,
        pool: &AnyPool,
        request: &BoardRequest,
        today: NaiveDate,
    ) -> Result<Board, AppError> {
        let key = format!("{request:?} {today}");
        let shared = {
            let mut in_flight = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
            in_flight.entry(key.clone()).or_default().clone()
        };
        // If the request computing it goes away (its client hung up), the next waiter computes.
        // The computation starts on the scheduler's next turn: requests that arrive in the same
        // instant share it even when every query answers at once (on a busy host a computation
        // could otherwise finish within its first poll, before the next request was looked at,
        // and that request would compute again).
        let result = shared
            .get_or_init(|| async {
                tokio::task::yield_now().await;
                self.compute(pool, request, today).await
            })
            .await
            .clone();
        // The first to see it done retires it: later requests compute afresh.
        let mut in_flight = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
        if in_flight.get(&key).is_some_and(|f| Arc::ptr_eq(f, &shared)) {
            in_flight.remove(&key);
        }
        result
    }

    /// How many views are being computed now.
    pub fn computing(&self) -> usize {
        self.in_flight
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .len()
    }

    /// How many boards have been computed since start.
    pub fn computed(&self) -> u64 {
        self.computed.load(Ordering::Relaxed)
    }

    /// Runs one of the board's queries when a slot is free.
    async fn slot<T>(
        &self,
        query: impl Future<Output = Result<T, AppError>>,
    ) -> Result<T, AppError> {
        let _slot = self.slots.acquire().await.map_err(|_| AppError::Internal)?;
        query.await
    }

    /// `whole` (a query over the whole months of `months`) and `part` over each part of the
    /// range outside them (at most two: before and after), side by side, each in a slot.
    async fn over<T, P, F>(
        &self,
        months: &Split,
        whole: impl Future<Output = Result<T, AppError>>,
        part: P,
    ) -> Result<Vec<T>, AppError>
    where
        P: Fn(i64, i64) -> F,
        F: Future<Output = Result<T, AppError>>,
    {
        debug_assert!(months.edges.len() <= 2, "{months:?}");
        let edge = |k: usize| {
            let range = months.edges.get(k).copied();
            let part = &part;
            async move {
                match range {
                    Some((from, until)) => self.slot(part(from, until)).await.map(Some),
                    None => Ok(None),
                }
            }
        };
        let (whole, before, after) = tokio::try_join!(self.slot(whole), edge(0), edge(1))?;
        Ok(std::iter::once(whole).chain(before).chain(after).collect())
    }

    async fn compute(
        &self,
        pool: &AnyPool,
        request: &BoardRequest,
        today: NaiveDate,
    ) -> Result<Board, AppError> {
        self.computed.fetch_add(1, Ordering::Relaxed);
        let filter = &request.filter;
        let today = today.format("%Y-%m-%d").to_string();
        let points = buckets(request.period, request.first, request.last);
        let months = self.whole_months(filter);
        let (counts, drills, actions, by_service, others) = tokio::try_join!(
            async {
                match &months {
                    Some(months) => self.rolled_up(pool, filter, months, &points).await,
                    None => self.counted(pool, filter, &points).await,
                }
            },
            self.slot(repo::drill_stats(pool, filter)),
            async {
                match &months {
                    Some(months) => self.items(pool, filter, months, &today).await,
                    None => self.slot(repo::action_figures(pool, filter, &today)).await,
                }
            },
            self.by_service(pool, filter, months.as_ref()),
            // With a service chosen, the breakdown holds only the services that share incidents
            // with it; the list to choose from is the breakdown without it, so one can switch.
            async {
                match filter.service {
                    Some(_) => {
                        let any = BoardFilter {
                            service: None,
                            ..filter.clone()
                        };
                        let months = self.whole_months(&any);
                        self.by_service(pool, &any, months.as_ref()).await.map(Some)
                    }
                    None => Ok(None),
                }
            },
        )?;
        // Every severity and status is shown, in their own order, zeros included.
        let in_order = |counts: &[(String, u64)], codes: &mut dyn Iterator<Item = &'static str>| {
            codes
                .map(|code| {
                    let n = counts
                        .iter()
                        .find(|(c, _)| c == code)
                        .map_or(0, |(_, n)| *n);
                    (code.to_owned(), n)
                })
                .collect::<Vec<_>>()
        };
        let mut services: Vec<String> = others
            .as_ref()
            .unwrap_or(&by_service)
            .iter()
            .take(SERVICES_OFFERED)
            .map(|(s, _)| s.clone())
            .collect();
        let mut by_service = by_service;
        by_service.truncate(SERVICES_SHOWN);
        if let Some(chosen) = filter.service.as_ref().filter(|c| !services.contains(c)) {
            services.push(chosen.clone());
        }
        services.sort();
        let [mtta, mttm, mttr] = counts.measures;
        Ok(Board {
            first: request.first.format("%Y-%m-%d").to_string(),
            last: request.last.format("%Y-%m-%d").to_string(),
            incidents: counts.incidents,
            measures: [
                (Measure::Mtta, mtta),
                (Measure::Mttm, mttm),
                (Measure::Mttr, mttr),
            ]
            .into_iter()
            .map(|(measure, stats)| MeasureFigures { measure, stats })
            .collect(),
            recurrences: counts.recurrences,
            drills,
            actions,
            by_severity: in_order(
                &counts.severities,
                &mut Severity::ALL.iter().map(|s| s.as_str()),
            ),
            by_status: in_order(
                &counts.statuses,
                &mut IncidentStatus::ALL.iter().map(|s| s.as_str()),
            ),
            by_service,
            period: request.period,
            trend: counts.trend,
            services,
        })
    }

    /// The incidents' figures counted from the incidents themselves.
    async fn counted(
        &self,
        pool: &AnyPool,
        filter: &BoardFilter,
        points: &[Bucket],
    ) -> Result<Counts, AppError> {
        let (mtta, mttm, mttr, (recurrences, incidents), severities, statuses, trend) = tokio::try_join!(
            self.slot(repo::duration_stats(pool, Measure::Mtta, filter)),
            self.slot(repo::duration_stats(pool, Measure::Mttm, filter)),
            self.slot(repo::duration_stats(pool, Measure::Mttr, filter)),
            self.slot(repo::recurrence(pool, filter)),
            self.slot(repo::count_by(pool, Breakdown::Severity, filter)),
            self.slot(repo::count_by(pool, Breakdown::Status, filter)),
            self.slot(repo::trend(pool, filter, points)),
        )?;
        Ok(Counts {
            measures: [mtta, mttm, mttr],
            incidents,
            recurrences,
            severities,
            statuses,
            trend,
        })
    }

    /// The incidents' figures from the monthly rollups of `months` and the incidents of the
    /// parts of the range outside them: counts and means exactly; the median and p90 ranked
    /// exactly up to [`Boards::exact_up_to`] durations, read off the histogram beyond.
    async fn rolled_up(
        &self,
        pool: &AnyPool,
        filter: &BoardFilter,
        months: &Split,
        points: &[Bucket],
    ) -> Result<Counts, AppError> {
        let severity = filter.severity;
        let rows: Vec<rollups::Figures> = self
            .over(
                months,
                rollups::months(pool, months.first_month, months.end_month, severity),
                |from, until| rollups::part(pool, rollup::month_of(from), from, until, severity),
            )
            .await?
            .into_iter()
            .flatten()
            .collect();
        let count = |n: i64| u64::try_from(n).map_err(|_| AppError::Internal);
        let total = |pick: &dyn Fn(&rollups::Figures) -> i64| rows.iter().map(pick).sum::<i64>();
        let by = |key: &dyn Fn(&rollups::Figures) -> &str| {
            let mut out: Vec<(String, u64)> = Vec::new();
            for row in &rows {
                match out.iter_mut().find(|(k, _)| k == key(row)) {
                    Some((_, n)) => *n += count(row.n)?,
                    None => out.push((key(row).to_owned(), count(row.n)?)),
                }
            }
            Ok::<_, AppError>(out)
        };
        let (mtta, mttm, mttr, trend) = tokio::try_join!(
            self.measure(pool, filter, months, &rows, Measure::Mtta),
            self.measure(pool, filter, months, &rows, Measure::Mttm),
            self.measure(pool, filter, months, &rows, Measure::Mttr),
            self.trend(pool, filter, months, &rows, points),
        )?;
        Ok(Counts {
            measures: [mtta, mttm, mttr],
            incidents: count(total(&|r| r.n))?,
            recurrences: count(total(&|r| r.repeats))?,
            severities: by(&|r| r.severity.as_str())?,
            statuses: by(&|r| r.status.as_str())?,
            trend,
        })
    }

    /// One measure's statistics over a range split into `months` (whose figures are `rows`).
    async fn measure(
        &self,
        pool: &AnyPool,
        filter: &BoardFilter,
        months: &Split,
        rows: &[rollups::Figures],
        measure: Measure,
    ) -> Result<DurationStats, AppError> {
        let (n, sum) = rows.iter().fold((0, 0), |(n, sum), row| {
            let (k, ms) = row.measure(measure);
            (n + k, sum + ms)
        });
        let count = u64::try_from(n).map_err(|_| AppError::Internal)?;
        if count <= self.exact_up_to {
            return self.slot(repo::duration_stats(pool, measure, filter)).await;
        }
        let severity = filter.severity;
        let mut histogram = BTreeMap::new();
        let parts = self
            .over(
                months,
                rollups::histogram(
                    pool,
                    measure,
                    months.first_month,
                    months.end_month,
                    severity,
                ),
                |from, until| rollups::part_histogram(pool, measure, from, until, severity),
            )
            .await?;
        for (lo, k) in parts.into_iter().flatten() {
            *histogram.entry(lo).or_insert(0) += k;
        }
        let histogram: Vec<(i64, u64)> = histogram.into_iter().collect();
        Ok(DurationStats {
            count,
            mean_ms: Some(sum as f64 / count as f64),
            median_ms: rollup::quantile(&histogram, MEDIAN),
            p90_ms: rollup::quantile(&histogram, P90),
            approximate: true,
        })
    }

    /// The trend: a point that is a whole month of `months` from its rollup rows, the others
    /// (weeks, and the months cut by the range) counted.
    async fn trend(
        &self,
        pool: &AnyPool,
        filter: &BoardFilter,
        months: &Split,
        rows: &[rollups::Figures],
        points: &[Bucket],
    ) -> Result<Vec<TrendPoint>, AppError> {
        let whole = |b: &Bucket| {
            let m = rollup::month_of(b.start);
            (m >= months.first_month
                && m < months.end_month
                && b.start == rollup::month_start(m)
                && b.end == rollup::month_start(m + 1))
            .then_some(m)
        };
        let rest: Vec<Bucket> = points
            .iter()
            .filter(|b| whole(b).is_none())
            .cloned()
            .collect();
        let counted = if rest.is_empty() {
            Vec::new()
        } else {
            self.slot(repo::trend(pool, filter, &rest)).await?
        };
        points
            .iter()
            .map(|bucket| match whole(bucket) {
                Some(m) => {
                    let of_month = rows.iter().filter(|r| r.month == m);
                    let (incidents, recovered, total) = of_month.fold((0, 0, 0), |(n, k, t), r| {
                        (n + r.n, k + r.resolved, t + r.resolved_ms)
                    });
                    TrendPoint::counted(bucket.clone(), incidents, recovered, total)
                        .ok_or(AppError::Internal)
                }
                None => counted
                    .iter()
                    .find(|p| p.bucket == *bucket)
                    .cloned()
                    .ok_or(AppError::Internal),
            })
            .collect()
    }

    /// The action item figures: of the incidents of `months` from their rollups, of those of
    /// the parts outside them and of drill runs that ended in the range counted.
    async fn items(
        &self,
        pool: &AnyPool,
        filter: &BoardFilter,
        months: &Split,
        today: &str,
    ) -> Result<ActionFigures, AppError> {
        let severity = filter.severity;
        let (mut parts, runs) = tokio::try_join!(
            self.over(
                months,
                rollups::items(pool, months.first_month, months.end_month, severity, today),
                |from, until| {
                    let edge = BoardFilter {
                        from,
                        until,
                        ..filter.clone()
                    };
                    async move { repo::items(pool, &edge, today, Items::OfIncidents).await }
                },
            ),
            self.slot(repo::items(pool, filter, today, Items::OfRuns)),
        )?;
        parts.push(runs);
        Ok(parts
            .into_iter()
            .fold(ActionFigures::default(), |a, b| ActionFigures {
                open: a.open + b.open,
                overdue: a.overdue + b.overdue,
                closed: a.closed + b.closed,
                closed_on_time: a.closed_on_time + b.closed_on_time,
            }))
    }

    /// The whole months of a range with no service: their incidents are counted from the monthly
    /// rollups (and the parts outside whole months from the incidents).
    fn whole_months(&self, filter: &BoardFilter) -> Option<Split> {
        if self.rollups && filter.service.is_none() {
            rollup::split(filter.from, filter.until)
        } else {
            None
        }
    }

    /// Incidents per service, every service, largest first: from the monthly rollups when the
    /// range has whole `months` (see `services`), from the incidents otherwise.
    async fn by_service(
        &self,
        pool: &AnyPool,
        filter: &BoardFilter,
        months: Option<&Split>,
    ) -> Result<Vec<(String, u64)>, AppError> {
        match months {
            Some(months) => self.services(pool, filter, months).await,
            None => {
                self.slot(repo::count_by(pool, Breakdown::Service, filter))
                    .await
            }
        }
    }

    /// Incidents per service (as `repo::metrics::count_by` answers it) from the monthly rollups
    /// of `months` and the incidents of the parts outside them.
    async fn services(
        &self,
        pool: &AnyPool,
        filter: &BoardFilter,
        months: &Split,
    ) -> Result<Vec<(String, u64)>, AppError> {
        let severity = filter.severity;
        let mut counts: BTreeMap<String, u64> = BTreeMap::new();
        let parts = self
            .over(
                months,
                rollups::services(pool, months.first_month, months.end_month, severity),
                |from, until| rollups::part_services(pool, from, until, severity),
            )
            .await?;
        for (service, n) in parts.into_iter().flatten() {
            *counts.entry(service).or_insert(0) += n;
        }
        let mut largest: Vec<(String, u64)> = counts.into_iter().collect();
        largest.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        Ok(largest)
    }
}

/// How many services the breakdown shows.
const SERVICES_SHOWN: usize = 20;

/// How many services the filter offers to choose from (those with the most incidents in the
/// range): a list one can still scroll, however many services alerts name.
pub const SERVICES_OFFERED: usize = 200;

/// The incidents' figures of a board (its measures, counts and trend).
struct Counts {
    measures: [DurationStats; 3],
    incidents: u64,
    recurrences: u64,
    severities: Vec<(String, u64)>,
    statuses: Vec<(String, u64)>,
    trend: Vec<TrendPoint>,
}

/// The board for `request`, as of `today` (UTC: action items are overdue after their due day),
/// computed alone (tests and benchmarks; the server goes through [`Boards::view`]).
pub async fn board(
    pool: &AnyPool,
    request: &BoardRequest,
    today: NaiveDate,
) -> Result<Board, AppError> {
    Boards::with_slots(16).view(pool, request, today).await
}
