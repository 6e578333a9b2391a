//! The Events of one evaluation: one per transition and per new refusal, at most one per reason.

use super::Note;
use super::refusal::Refusal;

#[derive(Default)]
pub(crate) struct Events(Vec<Note>);

impl Events {
    pub fn push(&mut self, warning: bool, reason: &str, message: String) {
        if !self.0.iter().any(|n| n.reason == reason) {
            self.0.push(Note {
                warning,
                reason: reason.to_owned(),
                message,
            });
        }
    }

    pub fn refused(&mut self, refusal: &Refusal) {
        self.push(refusal.warning(), &refusal.reason, refusal.message.clone());
    }

    pub fn extend(&mut self, other: Events) {
        for n in other.0 {
            self.push(n.warning, &n.reason, n.message);
        }
    }

    pub fn into_notes(self) -> Vec<Note> {
        self.0
    }
}
