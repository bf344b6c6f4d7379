//! A type-erased, caller-owned scratch store.

use std::any::{Any, TypeId};
use std::collections::HashMap;

/// Caller-owned scratch memory for the hot-path methods of every trait.
///
/// Each implementation keeps its scratch in a private type `T: Default` and fetches it with
/// [`Workspace::get`]; the first call allocates, later calls reuse the buffers. One workspace
/// serves any number of transforms, features, energies and samplers, so it can be held per thread
/// or per chain. Implementations must never let the *content* of their scratch change a result
/// (a dirty workspace gives bit-identical output); every wcrg crate tests this.
///
/// ```
/// use wcrg_core::Workspace;
/// #[derive(Default)]
/// struct Scratch { buf: Vec<f64> }
///
/// let mut ws = Workspace::new();
/// ws.get::<Scratch>().buf.resize(16, 0.0);
/// assert_eq!(ws.get::<Scratch>().buf.len(), 16);
/// ```
#[derive(Default)]
pub struct Workspace {
    slots: HashMap<TypeId, Box<dyn Any + Send>>,
}

impl Workspace {
    /// An empty workspace; buffers are allocated on first use.
    pub fn new() -> Self {
        Self::default()
    }

    /// The scratch value of type `T`, created with `T::default()` on first use.
    pub fn get<T: Default + Send + 'static>(&mut self) -> &mut T {
        self.slots
            .entry(TypeId::of::<T>())
            .or_insert_with(|| Box::new(T::default()))
            .downcast_mut::<T>()
            .expect("workspace slot holds the type of its key")
    }

    /// Drops every buffer (frees the memory).
    pub fn clear(&mut self) {
        self.slots.clear();
    }
}

impl std::fmt::Debug for Workspace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workspace")
            .field("slots", &self.slots.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct A(Vec<f64>);
    #[derive(Default)]
    struct B(u32);

    #[test]
    fn slots_are_per_type_and_persist() {
        let mut ws = Workspace::new();
        ws.get::<A>().0.push(1.5);
        ws.get::<B>().0 = 7;
        assert_eq!(ws.get::<A>().0, vec![1.5]);
        assert_eq!(ws.get::<B>().0, 7);
        ws.clear();
        assert!(ws.get::<A>().0.is_empty());
    }
}
