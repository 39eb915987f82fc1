//! What a request does. An *inevitable* request (a signal, a forced request) sets
//! `is_closing` as soon as it arrives; hooks that cancel it only defer the pipeline, asked again
//! every `veto_retry` until they let it go or the time it is forced at comes. A *negotiable*
//! request that a hook cancels changes nothing. Once a run is under way, further requests join
//! it, and a forced one escalates it.
//!
//! Over 400 lines as one concern: a request's life from its admission to the run's end (the
//! hard deadline armed at admission, deferral, begin, join, escalation, finish), whose times
//! (`force_time`, `latest_end`) all hang on the same `stop_timeout` clock.

use std::rc::Rc;
use std::sync::Arc;

use actix::prelude::*;
use tokio::sync::watch;
use tokio::time::Instant;

use super::hooks::{self, HookRound};
use super::messages::{RequestAnswer, StepEvent};
use super::pipeline::{Pipeline, notify};
use super::run_control::RunControl;
use super::{Phase, RetryDeferred, Supervisor};
use crate::files;
use crate::hard_deadline::Signal;
use crate::last_resort::{RunProgress, write_exit_marker};
use crate::messages::AbortAll;
use crate::report::{ShutdownReport, VetoRecord};
use crate::request::ShutdownRequest;

impl Supervisor {
    /// Notes an arriving request. An inevitable one sets `is_closing` at once, starts the
    /// `stop_timeout` clock, and learns when it will be forced (hooks can read it).
    pub(super) fn admit(&mut self, mut request: ShutdownRequest) -> ShutdownRequest {
        if !request.is_inevitable() {
            return request;
        }
        let now = Instant::now();
        if self.status.closing.set() {
            tracing::info!(reason = %crate::escape::escape(&request.reason), "the shutdown is inevitable: closing (new work is refused)");
            // Watchdogs learn at once that a stop is under way, even while hooks defer it.
            if let Some(marker) = &self.config.exit_marker {
                let planned = self.config.exit_codes.for_run(true, request.restart);
                let written = self
                    .summary
                    .unless_last_resort(|| write_exit_marker(marker, planned));
                if let Some(Err(e)) = written {
                    tracing::warn!("cannot write the exit marker {}: {e}", marker.display());
                }
            }
        }
        if self.kill_at.is_none() {
            // The orchestrator's clock started when the request was made, not when it got here.
            let waited = request.at.elapsed().unwrap_or_default();
            self.kill_at = self
                .config
                .stop_timeout
                .map(|timeout| now + timeout.saturating_sub(waited));
            // A run already under way must end before the kill too.
            if let (Phase::Running(control), Some(latest)) = (&self.phase, self.latest_end()) {
                control.cap(latest.max(now));
            }
        }
        let forced_at = if request.forced {
            now
        } else {
            let at = match &self.deferred {
                Some((_, at)) => *at,
                None => self.force_time(now),
            };
            request.forced_at = Some(at.into_std());
            at
        };
        self.watch_before_the_run(&request, forced_at);
        request
    }

    /// Arms the hard deadline before the run begins, for the time the run would end if it ran
    /// forced at `forced_at`: hooks that block the actor thread while they are asked (or while
    /// they defer the request) cannot keep an inevitable shutdown from ending the process. If
    /// it fires first, the summary says that no step ran. `begin` arms it again for the run.
    fn watch_before_the_run(&mut self, request: &ShutdownRequest, forced_at: Instant) {
        let (Phase::Idle, Some(hard)) = (&self.phase, &self.hard) else {
            return;
        };
        let mut ends = forced_at + self.config.forced_budget;
        if let Some(latest) = self.latest_end() {
            ends = ends.min(latest.max(Instant::now()));
        }
        let mut report = ShutdownReport::new(request.reason.clone(), request.source);
        report.restart = request.restart;
        report.vetoes = self.vetoes.clone();
        report.hook_errors = self.hook_errors.clone();
        let progress = RunProgress::new(
            report,
            Arc::clone(&self.status.current),
            Arc::clone(&self.summary),
        );
        hard.send(Signal::Arm {
            deadline: ends.into_std(),
            progress: progress.clone(),
        });
        self.pre_run = Some(progress);
    }

    /// Keeps the report the hard-deadline thread would write before the run up to date with
    /// what the hooks said (a veto is why no step ran).
    fn update_pre_run(&self) {
        if let Some(pre_run) = &self.pre_run {
            let mut report = pre_run.report.lock().unwrap_or_else(|p| p.into_inner());
            report.vetoes.clone_from(&self.vetoes);
            report.hook_errors.clone_from(&self.hook_errors);
        }
    }

    /// When a deferred inevitable request runs forced: at the grace deadline, or sooner so that
    /// the forced run, the hard margin and the last resort's slack still end before
    /// `stop_timeout`.
    fn force_time(&self, now: Instant) -> Instant {
        let at = now + self.config.grace;
        let Some(kill) = self.kill_at else {
            return at;
        };
        let reserve = self.config.forced_budget + self.config.kill_reserve();
        at.min(kill.checked_sub(reserve).unwrap_or(now).max(now))
    }

    /// The last moment a run may end: before the orchestrator's kill, less the hard margin and
    /// the last resort's slack (so the hard deadline fires before the kill, not with it).
    fn latest_end(&self) -> Option<Instant> {
        let kill = self.kill_at?;
        Some(kill.checked_sub(self.config.kill_reserve()).unwrap_or(kill))
    }

    /// A round of hooks for `request`. Forced requests share the forced budget; a deferred one
    /// may not take its hooks past the time it is forced at.
    pub(super) fn ask_hooks(
        &self,
        request: &ShutdownRequest,
    ) -> impl Future<Output = HookRound> + 'static {
        // Each hook gets the hook budget; the whole round of a forced request ends within the
        // forced budget, and a deferred one's by the time it is forced at.
        let now = Instant::now();
        let round_until = if request.forced {
            Some(now + self.config.forced_budget)
        } else {
            request
                .time_left()
                .map(|left| now + left.max(self.config.veto_retry))
        };
        hooks::ask(&self.hooks, request, self.config.hook_budget, round_until)
    }

    /// Acts on what the hooks answered.
    pub(super) fn decide(
        &mut self,
        request: ShutdownRequest,
        round: HookRound,
        ctx: &mut Context<Self>,
    ) -> RequestAnswer {
        // A hook that keeps failing while a request is deferred is recorded once per outcome.
        for error in round.errors {
            if !self
                .hook_errors
                .iter()
                .any(|e| e.hook == error.hook && e.outcome == error.outcome)
            {
                self.hook_errors.push(error);
            }
        }
        self.update_pre_run();
        if !matches!(self.phase, Phase::Idle) {
            return self.join(&request);
        }
        let id = request.id.clone();
        if request.forced || round.vetoed_by.is_empty() {
            // A forced request after vetoed graceful ones (a second signal, a director's
            // force after a "not ready") is an escalation.
            let escalated = request.forced && (self.deferred.is_some() || !self.vetoes.is_empty());
            self.begin(request, escalated, ctx);
            return RequestAnswer {
                request_id: id,
                ready: true,
                vetoed_by: Vec::new(),
                joined: false,
            };
        }
        // Each hook's veto of a request is recorded once, when it first vetoed: a deferred
        // request is asked again every `veto_retry`.
        let at = files::rfc3339(round.at);
        for hook in &round.vetoed_by {
            if !self
                .vetoes
                .iter()
                .any(|v| v.hook == *hook && v.request_id == id)
            {
                self.vetoes
                    .push(VetoRecord::new(hook.clone(), at.clone(), id.clone()));
            }
        }
        self.update_pre_run();
        let inevitable = request.is_inevitable();
        notify(
            self.config.progress.as_ref(),
            &StepEvent::Vetoed {
                by: round.vetoed_by.clone(),
                deferred: inevitable,
            },
        );
        if inevitable {
            self.defer(request, ctx);
        }
        RequestAnswer {
            request_id: id,
            ready: false,
            vetoed_by: round.vetoed_by,
            joined: false,
        }
    }

    /// Keeps an inevitable request that hooks vetoed: asked again every `veto_retry`, forced
    /// when its time comes.
    fn defer(&mut self, request: ShutdownRequest, ctx: &mut Context<Self>) {
        let now = Instant::now();
        let forced_at = match &self.deferred {
            Some((_, at)) => *at,
            None => {
                let at = request
                    .forced_at
                    .map_or_else(|| self.force_time(now), Instant::from_std);
                self.deferred = Some((request, at));
                at
            }
        };
        if now >= forced_at {
            self.force_deferred(ctx);
        } else {
            ctx.notify_later(RetryDeferred, self.config.veto_retry.min(forced_at - now));
        }
    }

    /// The [`RetryDeferred`] round: `None` when there is nothing left to ask.
    pub(super) fn retry(&mut self, ctx: &mut Context<Self>) -> Option<ResponseActFuture<Self, ()>> {
        if !matches!(self.phase, Phase::Idle) {
            return None;
        }
        let (request, forced_at) = self.deferred.clone()?;
        if Instant::now() >= forced_at {
            self.force_deferred(ctx);
            return None;
        }
        let round = self.ask_hooks(&request);
        Some(Box::pin(round.into_actor(self).map(
            move |round, this, ctx| {
                this.decide(request, round, ctx);
            },
        )))
    }

    fn force_deferred(&mut self, ctx: &mut Context<Self>) {
        let Some((request, _)) = self.deferred.clone() else {
            return;
        };
        let why = if self.kill_at.is_some() {
            "the time stop_timeout leaves for a forced run"
        } else {
            "the grace deadline"
        };
        tracing::warn!("hooks deferred the shutdown until {why}; forcing it");
        let forced = ShutdownRequest {
            forced: true,
            forced_at: None,
            reason: format!("{} (forced after vetoes)", request.reason),
            ..request
        };
        self.begin(forced, true, ctx);
    }

    /// A request that arrives once a run is under way joins it; a forced one escalates it.
    pub(super) fn join(&mut self, request: &ShutdownRequest) -> RequestAnswer {
        if request.forced {
            self.escalate(&request.reason);
        }
        RequestAnswer {
            request_id: request.id.clone(),
            ready: true,
            vetoed_by: Vec::new(),
            joined: true,
        }
    }

    fn escalate(&mut self, reason: &str) {
        let Phase::Running(control) = &self.phase else {
            return;
        };
        let mut until = Instant::now() + self.config.forced_budget;
        if let Some(latest) = self.latest_end() {
            until = until.min(latest);
        }
        if !control.force(until) {
            return;
        }
        self.participants.abort_tasks.do_send(AbortAll);
        tracing::warn!(
            "shutdown escalated to forced: {}",
            crate::escape::escape(reason)
        );
        notify(
            self.config.progress.as_ref(),
            &StepEvent::Escalated {
                reason: reason.to_owned(),
            },
        );
    }

    /// Starts the pipeline for `request`.
    pub(super) fn begin(
        &mut self,
        request: ShutdownRequest,
        escalated: bool,
        ctx: &mut Context<Self>,
    ) {
        if !matches!(self.phase, Phase::Idle) {
            self.join(&request);
            return;
        }
        let deferred_until = self.deferred.take().map(|(_, until)| until);
        self.status.closing.set();
        let started = Instant::now();
        let budget = if request.forced {
            self.config.forced_budget
        } else {
            self.config.grace
        };
        // A request deferred by vetoes already used part of its grace: what is left of it
        // (at least the forced budget) bounds the run, not a fresh grace.
        let mut deadline = match deferred_until {
            Some(until) => (started + budget).min(until.max(started + self.config.forced_budget)),
            None => started + budget,
        };
        if let Some(latest) = self.latest_end() {
            deadline = deadline.min(latest.max(started));
        }
        let mut report = ShutdownReport::new(request.reason.clone(), request.source);
        report.forced = request.forced;
        report.escalated = escalated;
        report.restart = request.restart;
        report.exit_code = self.config.exit_codes.for_run(true, request.restart);
        report.vetoes = self.vetoes.clone();
        report.hook_errors = self.hook_errors.clone();
        let progress = RunProgress::new(
            report,
            Arc::clone(&self.status.current),
            Arc::clone(&self.summary),
        );
        self.pre_run = None;
        if let Some(hard) = &self.hard {
            let armed = hard.send(Signal::Arm {
                deadline: deadline.into_std(),
                progress: progress.clone(),
            });
            if !armed {
                tracing::error!(
                    "the hard-deadline thread is not running; only the step timeouts bound this shutdown"
                );
            }
        }
        let control = Rc::new(RunControl {
            forced: std::cell::Cell::new(request.forced),
            escalated: std::cell::Cell::new(escalated),
            deadline: watch::Sender::new(deadline),
            hard: self.hard.clone(),
        });
        self.phase = Phase::Running(Rc::clone(&control));
        tracing::info!(reason = %crate::escape::escape(&request.reason), source = %request.source, forced = request.forced, restart = request.restart, "shutdown begins");
        let run = Pipeline {
            participants: self.participants.clone(),
            config: self.config.clone(),
            control,
            progress,
            status: self.status.clone(),
            pending_jobs: self.pending_jobs.clone(),
            drainers: std::mem::take(&mut self.drainers),
            summary_code: std::cell::Cell::new(None),
        };
        ctx.spawn(
            run.run()
                .into_actor(self)
                .map(|report, this, _| this.finish(report)),
        );
    }

    fn finish(&mut self, report: ShutdownReport) {
        if let Phase::Running(control) = &self.phase
            && let Some(hard) = &control.hard
        {
            hard.send(if self.config.stop_system {
                Signal::Finished(report.exit_code)
            } else {
                Signal::Done
            });
        }
        let report = Arc::new(report);
        let _ = self.status.finished.set(Arc::clone(&report));
        self.phase = Phase::Done;
        for waiter in self.waiters.drain(..) {
            let _ = waiter.send(Arc::clone(&report));
        }
        for subscriber in &self.subscribers {
            subscriber.do_send(super::messages::ShutdownComplete {
                report: Arc::clone(&report),
            });
        }
        // When the hard deadline's last resort took over, it ends the process with its code
        // once its traces are written: stopping the System here would race it.
        if self.config.stop_system
            && !self.summary.taken_by_last_resort()
            && let Some(system) = actix::System::try_current()
        {
            system.stop_with_code(report.exit_code);
        }
    }
}
