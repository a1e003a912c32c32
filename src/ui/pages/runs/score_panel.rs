//! A finished run's score beside the formula that produced it: points, pass or fail, the
//! measured recovery time against the RTO, and every point lost with its reason.

use leptos::prelude::*;

use crate::model::run::RunView;
use crate::model::score::{FORMULA, Recovery, Verdict, score};
use crate::ui::format;

/// The badge class of a verdict.
pub fn verdict_class(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Pass => "badge verdict pass",
        Verdict::Fail => "badge verdict fail",
    }
}

/// The score of `run` (nothing while it runs; a note for an interrupted run).
#[component]
pub fn ScorePanel(run: RunView) -> impl IntoView {
    let Some(s) = score(&run) else {
        return run
            .summary
            .status
            .is_finished()
            .then(|| {
                view! {
                    <section class="card score" aria-labelledby="score-heading">
                        <h2 id="score-heading">"Score"</h2>
                        <p class="muted">"Not scored: the run was interrupted (the server stopped), so it says nothing about the system."</p>
                    </section>
                }
            })
            .into_any();
    };
    let recovery = match s.recovery {
        Recovery::Marked(ms) => format!(
            "Recovery took {} (from the failure injection to the last passing recovery check)",
            format::duration(chrono::Duration::milliseconds(ms))
        ),
        Recovery::WholeRun(ms) => format!(
            "Recovery took {} (the whole run: no step is marked)",
            format::duration(chrono::Duration::milliseconds(ms))
        ),
        Recovery::NotRecovered => "No recovery check passed".to_owned(),
    };
    let rto = s.rto_secs.map_or_else(
        || "; the plan sets no RTO.".to_owned(),
        |rto| {
            format!(
                "; the RTO is {}.",
                format::duration(chrono::Duration::seconds(i64::from(rto)))
            )
        },
    );
    let steps = run.steps.clone();
    view! {
        <section class="card score" aria-labelledby="score-heading">
            <h2 id="score-heading">"Score"</h2>
            <p class="score-line">
                <span class="score-figure" aria-label="Score">{format!("{} / 100", s.points)}</span>
                " "
                <span class=verdict_class(s.verdict) aria-label="Verdict">{s.verdict.label()}</span>
            </p>
            <p>{recovery}{rto}</p>
            {(!s.losses.is_empty()).then(|| view! {
                <ul class="score-losses" aria-label="Points lost">
                    {s.losses.iter().map(|l| {
                        let what = l.step.and_then(|i| steps.get(i)).map_or_else(
                            || "Recovery time".to_owned(),
                            |st| format!("Step {}. {}", st.index + 1, st.name),
                        );
                        view! { <li>{format!("−{} · {what}: {}", l.points, l.reason)}</li> }
                    }).collect_view()}
                </ul>
            })}
            <details class="formula">
                <summary>{format!("How the score is computed (formula v{})", s.version)}</summary>
                <p>{FORMULA}</p>
            </details>
        </section>
    }
    .into_any()
}
