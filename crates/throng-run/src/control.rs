//! The run's live control served over the API: [`ApiControl`] puts the engine's
//! [`EngineControl`] behind `throng_live::control::RunControl`, which the control API and
//! the dashboard's buttons call.
use std::sync::Arc;
use throng_engine::EngineControl;
use throng_live::control::{RunControl, StatusAttrs, StatusPatch};

/// An [`EngineControl`] as the control API sees it.
pub struct ApiControl(pub EngineControl);

impl ApiControl {
    /// `control` behind the API's trait.
    pub fn shared(control: &EngineControl) -> Arc<dyn RunControl> {
        Arc::new(ApiControl(control.clone()))
    }
}

fn attrs(s: throng_engine::ControlStatus) -> StatusAttrs {
    StatusAttrs {
        paused: s.paused,
        vus: s.vus,
        vus_max: s.vus_max,
        stopped: s.stopped,
        running: s.running,
        tainted: s.tainted,
    }
}

impl RunControl for ApiControl {
    fn status(&self) -> StatusAttrs {
        attrs(self.0.status())
    }

    /// Scales first (the one change that can be refused, so a refused request changes
    /// nothing), then pauses or resumes, then stops.
    fn apply(&self, p: &StatusPatch) -> Result<StatusAttrs, String> {
        if p.vus.is_some() || p.vus_max.is_some() {
            self.0.scale(p.vus, p.vus_max).map_err(|e| e.to_string())?;
        }
        match p.paused {
            Some(true) => self.0.pause(),
            Some(false) => self.0.resume(),
            None => {}
        }
        if p.stopped == Some(true) {
            self.0.stop();
        }
        Ok(self.status())
    }
}
