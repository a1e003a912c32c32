//! The step composer's edits, as pure operations on a plan's steps: insert a new step, move one
//! (by drag and drop or by keyboard), remove one. Every operation keeps a disaster-recovery
//! plan's phases contiguous and in their fixed order, so a move can never produce a plan that
//! runs recovery before switch-over.

use super::catalog::ActionCode;
use super::plan::{Phase, Step};

/// Where a step goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// Just before the step with this id (into its phase).
    Before(String),
    /// At the end of a phase (or of the plan, for plans without phases).
    End(Option<Phase>),
}

fn position(steps: &[Step], id: &str) -> Option<usize> {
    steps.iter().position(|s| s.id == id)
}

/// The index and phase `place` stands for in `steps`.
fn resolve(steps: &[Step], place: &Place) -> (usize, Option<Phase>) {
    match place {
        Place::Before(id) => match position(steps, id) {
            Some(i) => (i, steps[i].phase),
            None => (steps.len(), steps.last().and_then(|s| s.phase)),
        },
        Place::End(None) => (steps.len(), None),
        // After every step of this phase or an earlier one.
        Place::End(Some(phase)) => (
            steps
                .iter()
                .filter(|s| s.phase.is_some_and(|p| p <= *phase))
                .count(),
            Some(*phase),
        ),
    }
}

/// An id no step of `steps` has.
pub fn new_step_id(steps: &[Step]) -> String {
    let next = steps
        .iter()
        .filter_map(|s| s.id.strip_prefix("step-")?.parse::<u64>().ok())
        .max()
        .map_or(1, |n| n + 1);
    format!("step-{next}")
}

/// Adds a new step of `action` at `place`; returns its id.
pub fn insert_new(steps: &mut Vec<Step>, action: ActionCode, place: &Place) -> String {
    let id = new_step_id(steps);
    let (index, phase) = resolve(steps, place);
    steps.insert(index, Step::new(id.clone(), action, phase));
    id
}

/// Moves step `id` to `place` (a drop). Dropping a step before itself changes nothing.
pub fn move_to(steps: &mut Vec<Step>, id: &str, place: &Place) {
    if matches!(place, Place::Before(target) if target == id) {
        return;
    }
    let Some(from) = position(steps, id) else {
        return;
    };
    let mut step = steps.remove(from);
    let (index, phase) = resolve(steps, place);
    step.phase = phase;
    steps.insert(index, step);
}

/// Moves step `id` one place up; at the top of a phase it becomes the last step of the phase
/// before. Returns whether it moved.
pub fn move_up(steps: &mut [Step], id: &str) -> bool {
    let Some(i) = position(steps, id) else {
        return false;
    };
    let phase = steps[i].phase;
    if i > 0 && steps[i - 1].phase == phase {
        steps.swap(i - 1, i);
        return true;
    }
    match phase.and_then(previous_phase) {
        Some(p) => {
            steps[i].phase = Some(p);
            true
        }
        None => false,
    }
}

/// Moves step `id` one place down; at the bottom of a phase it becomes the first step of the
/// phase after. Returns whether it moved.
pub fn move_down(steps: &mut [Step], id: &str) -> bool {
    let Some(i) = position(steps, id) else {
        return false;
    };
    let phase = steps[i].phase;
    if i + 1 < steps.len() && steps[i + 1].phase == phase {
        steps.swap(i, i + 1);
        return true;
    }
    match phase.and_then(next_phase) {
        Some(p) => {
            steps[i].phase = Some(p);
            true
        }
        None => false,
    }
}

/// Removes step `id`.
pub fn remove(steps: &mut Vec<Step>, id: &str) {
    steps.retain(|s| s.id != id);
}

/// Puts every step in a phase (switching a plan to disaster recovery: unphased steps go to
/// switch-over) or takes every step out of its phase (switching away).
pub fn set_phased(steps: &mut [Step], phased: bool) {
    for s in steps.iter_mut() {
        s.phase = if phased {
            Some(s.phase.unwrap_or(Phase::SwitchOver))
        } else {
            None
        };
    }
    if phased {
        steps.sort_by_key(|s| s.phase);
    }
}

fn previous_phase(p: Phase) -> Option<Phase> {
    let i = Phase::ALL.iter().position(|x| *x == p)?;
    i.checked_sub(1).map(|j| Phase::ALL[j])
}

fn next_phase(p: Phase) -> Option<Phase> {
    let i = Phase::ALL.iter().position(|x| *x == p)?;
    Phase::ALL.get(i + 1).copied()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ids(steps: &[Step]) -> Vec<&str> {
        steps.iter().map(|s| s.id.as_str()).collect()
    }

    fn plain(n: usize) -> Vec<Step> {
        (1..=n)
            .map(|i| Step::new(format!("step-{i}"), ActionCode::Wait, None))
            .collect()
    }

    #[test]
    fn new_steps_get_fresh_ids_and_land_where_dropped() {
        let mut steps = plain(2);
        let id = insert_new(
            &mut steps,
            ActionCode::HttpRequest,
            &Place::Before("step-2".into()),
        );
        assert_eq!(id, "step-3");
        assert_eq!(ids(&steps), ["step-1", "step-3", "step-2"]);
        let id = insert_new(&mut steps, ActionCode::ManualCheck, &Place::End(None));
        assert_eq!(ids(&steps), ["step-1", "step-3", "step-2", &id]);
        assert_eq!(steps[3].action, "manual_check");
    }

    #[test]
    fn drops_and_keyboard_moves_reorder() {
        let mut steps = plain(3);
        move_to(&mut steps, "step-3", &Place::Before("step-1".into()));
        assert_eq!(ids(&steps), ["step-3", "step-1", "step-2"]);
        move_to(&mut steps, "step-3", &Place::End(None));
        assert_eq!(ids(&steps), ["step-1", "step-2", "step-3"]);
        move_to(&mut steps, "step-2", &Place::Before("step-2".into()));
        assert_eq!(
            ids(&steps),
            ["step-1", "step-2", "step-3"],
            "onto itself: no change"
        );
        assert!(move_up(&mut steps, "step-2"));
        assert_eq!(ids(&steps), ["step-2", "step-1", "step-3"]);
        assert!(!move_up(&mut steps, "step-2"), "already first");
        assert!(move_down(&mut steps, "step-1"));
        assert_eq!(ids(&steps), ["step-2", "step-3", "step-1"]);
        assert!(!move_down(&mut steps, "step-1"), "already last");
        remove(&mut steps, "step-3");
        assert_eq!(ids(&steps), ["step-2", "step-1"]);
    }

    #[test]
    fn steps_cross_phases_at_their_edges() {
        let mut steps = plain(3);
        set_phased(&mut steps, true);
        assert!(steps.iter().all(|s| s.phase == Some(Phase::SwitchOver)));
        move_to(&mut steps, "step-1", &Place::End(Some(Phase::SwitchBack)));
        assert_eq!(ids(&steps), ["step-2", "step-3", "step-1"]);
        assert_eq!(steps[2].phase, Some(Phase::SwitchBack));
        // Down from the last switch-over step: first of recovery (empty), same position.
        assert!(move_down(&mut steps, "step-3"));
        assert_eq!(steps[1].phase, Some(Phase::Recovery));
        assert!(
            move_up(&mut steps, "step-1"),
            "top of switch-back → end of recovery"
        );
        assert_eq!(steps[2].phase, Some(Phase::Recovery));
        let id = insert_new(
            &mut steps,
            ActionCode::Wait,
            &Place::End(Some(Phase::SwitchOver)),
        );
        assert_eq!(ids(&steps), ["step-2", &id, "step-3", "step-1"]);
        set_phased(&mut steps, false);
        assert!(steps.iter().all(|s| s.phase.is_none()));
    }

    fn op() -> impl Strategy<Value = (u8, usize, usize, u8)> {
        (0u8..5, 0usize..8, 0usize..8, 0u8..3)
    }

    proptest! {
        #[test]
        fn phases_stay_in_order_whatever_the_edits(ops in proptest::collection::vec(op(), 0..40)) {
            let mut steps = plain(3);
            set_phased(&mut steps, true);
            for (kind, a, b, p) in ops {
                let pick = |steps: &[Step], i: usize| steps.get(i % steps.len().max(1)).map(|s| s.id.clone());
                let phase = Phase::ALL[p as usize];
                match kind {
                    0 => { insert_new(&mut steps, ActionCode::Wait, &Place::End(Some(phase))); }
                    1 => if let (Some(x), Some(y)) = (pick(&steps, a), pick(&steps, b)) { move_to(&mut steps, &x, &Place::Before(y)); },
                    2 => if let Some(x) = pick(&steps, a) { move_up(&mut steps, &x); },
                    3 => if let Some(x) = pick(&steps, a) { move_down(&mut steps, &x); },
                    _ => if let Some(x) = pick(&steps, a) { move_to(&mut steps, &x, &Place::End(Some(phase))); },
                }
                let phases: Vec<_> = steps.iter().map(|s| s.phase).collect();
                prop_assert!(phases.iter().all(Option::is_some));
                prop_assert!(phases.windows(2).all(|w| w[0] <= w[1]), "{phases:?}");
                let mut unique: Vec<_> = ids(&steps);
                unique.sort_unstable();
                unique.dedup();
                prop_assert_eq!(unique.len(), steps.len());
            }
        }
    }
}
