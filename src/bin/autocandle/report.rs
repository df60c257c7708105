//! `autocandle report`: a project's leaderboard and its HTML report.

use autocandle::display::terminal;
use autocandle::export::Model;
use autocandle::prelude::*;

/// The trials of a project folder, in id order. The path is resolved first, so `.` and
/// `P/trial_00/..` name the project they stand for.
pub(crate) fn project_trials(
    project: &std::path::Path,
) -> autocandle::Result<Vec<autocandle::tuners::Trial>> {
    let dir = std::fs::canonicalize(project).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::DataNotFound {
            what: "project".into(),
            path: project.to_path_buf(),
            hint: "give the folder that holds oracle.json (the --project of fit)".into(),
        },
        _ => Error::io(project, e),
    })?;
    autocandle::project::Project::existing(&dir)?.load_trials()
}

pub(crate) fn report(project: &std::path::Path) -> autocandle::Result<String> {
    let mut trials = project_trials(project)?;
    trials.sort_by(|a, b| {
        a.score
            .unwrap_or(f64::INFINITY)
            .partial_cmp(&b.score.unwrap_or(f64::INFINITY))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    Ok(terminal::leaderboard(&trials))
}

/// Writes the HTML report of `project` to `out`: the trials in the order they ran, and the
/// summary of `<project>/best_model` when it is there and loads.
pub(crate) fn report_html(
    project: &std::path::Path,
    out: &std::path::Path,
) -> autocandle::Result<()> {
    let trials = project_trials(project)?;
    let model_dir = project.join("best_model");
    let summary = if model_dir.exists() {
        match Model::load(&model_dir).and_then(|m| m.summary()) {
            Ok(s) => Some(s),
            Err(e) => {
                eprintln!("The report leaves out the model summary: {e}");
                None
            }
        }
    } else {
        None
    };
    let title = format!("autocandle report: {}", project.display());
    let html = autocandle::display::report_html(&title, &trials, summary.as_ref())?;
    autocandle::display::report::save_html(out, &html)?;
    eprintln!("HTML report written to {}", out.display());
    Ok(())
}
