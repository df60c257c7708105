//! Hyperparameters: the search space and one point in it.
//!
//! As in KerasTuner, a block asks a [`HyperParameters`] for a value by name while it builds; the
//! first ask registers the hyperparameter (its kind, range and default) in the space, and the
//! value returned is the one the oracle chose for this trial, or the default. Names are scoped by
//! block (`conv_block_1/filters_0_1`) and a hyperparameter declared inside
//! [`HyperParameters::conditional`] exists only while its parent choice has one of the given values.
//!
//! ```
//! use autocandle::hyperparameters::HyperParameters;
//! let mut hp = HyperParameters::new();
//! let units = hp.scoped("dense_block_1", |hp| hp.choice_i64("units", &[32, 64, 128], 64));
//! assert_eq!(units, 64);
//! assert_eq!(hp.space()[0].name, "dense_block_1/units");
//! let json = serde_json::to_string(&hp).unwrap();
//! let back: HyperParameters = serde_json::from_str(&json).unwrap();
//! assert_eq!(back.values(), hp.values());
//! ```

use crate::error::{Error, Result};
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One hyperparameter value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A real number.
    Float(f64),
    /// A string.
    Str(String),
}

impl Value {
    /// The value as an integer (floats are truncated).
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(v) => Some(*v),
            Value::Float(v) => Some(*v as i64),
            _ => None,
        }
    }
    /// The value as a float.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(v) => Some(*v as f64),
            Value::Float(v) => Some(*v),
            _ => None,
        }
    }
    /// The value as a boolean.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(v) => Some(*v),
            _ => None,
        }
    }
    /// The value as a string slice.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(v) => Some(v),
            _ => None,
        }
    }
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Bool(v) => write!(f, "{v}"),
            Value::Int(v) => write!(f, "{v}"),
            Value::Float(v) => write!(f, "{v}"),
            Value::Str(v) => write!(f, "{v}"),
        }
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}
impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<usize> for Value {
    fn from(v: usize) -> Self {
        Value::Int(v as i64)
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Float(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Str(v.to_string())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Str(v)
    }
}

/// How a numeric range is sampled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Sampling {
    /// Uniform.
    #[default]
    Linear,
    /// Uniform in the logarithm.
    Log,
}

/// The kind and range of a hyperparameter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Kind {
    /// One of a list of values.
    Choice { values: Vec<Value> },
    /// An integer in `[min, max]` with a step.
    Int {
        min: i64,
        max: i64,
        step: i64,
        sampling: Sampling,
    },
    /// A real number in `[min, max]`.
    Float {
        min: f64,
        max: f64,
        sampling: Sampling,
    },
    /// True or false.
    Boolean,
    /// A single value (a block argument the user fixed).
    Fixed { value: Value },
}

/// "This hyperparameter exists only when `parent` has one of `values`."
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Condition {
    /// Full name of the parent hyperparameter.
    pub parent: String,
    /// Values of the parent that make the child active.
    pub values: Vec<Value>,
}

/// A declared hyperparameter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HyperParameter {
    /// Full, scoped name.
    pub name: String,
    /// Kind and range.
    pub kind: Kind,
    /// Value used when the oracle has not chosen one.
    pub default: Value,
    /// Conditions (all must hold) under which it is active.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
}

impl HyperParameter {
    /// Draws a random value from the range.
    pub fn sample(&self, rng: &mut impl Rng) -> Value {
        match &self.kind {
            Kind::Choice { values } => values[rng.random_range(0..values.len())].clone(),
            Kind::Int {
                min,
                max,
                step,
                sampling,
            } => {
                let step = (*step).max(1);
                let n = (max - min) / step;
                let k = match sampling {
                    Sampling::Linear => rng.random_range(0..=n),
                    Sampling::Log => {
                        let (lo, hi) = ((*min).max(1) as f64, (*max).max(1) as f64);
                        let v = (lo.ln() + rng.random::<f64>() * (hi.ln() - lo.ln())).exp();
                        (((v - *min as f64) / step as f64).round() as i64).clamp(0, n)
                    }
                };
                Value::Int(min + k * step)
            }
            Kind::Float { min, max, sampling } => Value::Float(match sampling {
                Sampling::Linear => min + rng.random::<f64>() * (max - min),
                Sampling::Log => (min.ln() + rng.random::<f64>() * (max.ln() - min.ln())).exp(),
            }),
            Kind::Boolean => Value::Bool(rng.random::<bool>()),
            Kind::Fixed { value } => value.clone(),
        }
    }

    /// True when `v` lies in this hyperparameter's range.
    pub fn admits(&self, v: &Value) -> bool {
        match &self.kind {
            Kind::Choice { values } => values.contains(v),
            Kind::Int { min, max, .. } => v.as_i64().is_some_and(|x| x >= *min && x <= *max),
            Kind::Float { min, max, .. } => v.as_f64().is_some_and(|x| x >= *min && x <= *max),
            Kind::Boolean => v.as_bool().is_some(),
            Kind::Fixed { value } => value == v,
        }
    }
}

/// A search space with one value per hyperparameter.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HyperParameters {
    space: Vec<HyperParameter>,
    values: BTreeMap<String, Value>,
    #[serde(skip)]
    scopes: Vec<String>,
    #[serde(skip)]
    conditions: Vec<Condition>,
}

impl HyperParameters {
    /// An empty space.
    pub fn new() -> Self {
        Self::default()
    }

    /// The declared hyperparameters, in declaration order.
    pub fn space(&self) -> &[HyperParameter] {
        &self.space
    }

    /// The chosen values by full name (active or not).
    pub fn values(&self) -> &BTreeMap<String, Value> {
        &self.values
    }

    /// The value of `name` (full name), if set.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.values.get(name)
    }

    /// Sets the value of `name` (full name). It is checked against the range if `name` is
    /// already declared.
    pub fn set(&mut self, name: &str, value: impl Into<Value>) -> Result<()> {
        let value = value.into();
        if let Some(h) = self.space.iter().find(|h| h.name == name) {
            if !h.admits(&value) {
                return Err(Error::HyperParameter(format!(
                    "{value} is not a valid value for {name} ({:?})",
                    h.kind
                )));
            }
        }
        self.values.insert(name.to_string(), value);
        Ok(())
    }

    /// A copy with the same space and no values set.
    pub fn space_only(&self) -> HyperParameters {
        HyperParameters {
            space: self.space.clone(),
            ..Default::default()
        }
    }

    /// Adds the declarations of `other` that this space does not have yet.
    pub fn merge_space(&mut self, other: &HyperParameters) {
        for h in &other.space {
            if !self.space.iter().any(|x| x.name == h.name) {
                self.space.push(h.clone());
            }
        }
    }

    /// True when every condition of `h` holds under the current values (defaults for unset parents).
    pub fn is_active(&self, h: &HyperParameter) -> bool {
        h.conditions.iter().all(|c| {
            let parent = self.value_or_default(&c.parent);
            parent.is_some_and(|p| c.values.contains(&p))
        })
    }

    /// The active hyperparameters with their current values.
    pub fn active_values(&self) -> BTreeMap<String, Value> {
        self.space
            .iter()
            .filter(|h| self.is_active(h))
            .filter_map(|h| self.value_or_default(&h.name).map(|v| (h.name.clone(), v)))
            .collect()
    }

    fn value_or_default(&self, name: &str) -> Option<Value> {
        self.values.get(name).cloned().or_else(|| {
            self.space
                .iter()
                .find(|h| h.name == name)
                .map(|h| h.default.clone())
        })
    }

    /// Runs `f` with names prefixed by `scope/`.
    pub fn scoped<T>(&mut self, scope: &str, f: impl FnOnce(&mut Self) -> T) -> T {
        self.scopes.push(scope.to_string());
        let out = f(self);
        self.scopes.pop();
        out
    }

    /// Runs `f` with every hyperparameter it declares conditional on `parent` (a full name)
    /// having one of `values`.
    pub fn conditional<T>(
        &mut self,
        parent: &str,
        values: &[Value],
        f: impl FnOnce(&mut Self) -> T,
    ) -> T {
        self.conditions.push(Condition {
            parent: parent.to_string(),
            values: values.to_vec(),
        });
        let out = f(self);
        self.conditions.pop();
        out
    }

    /// The full name `name` gets in the current scope.
    pub fn full_name(&self, name: &str) -> String {
        if self.scopes.is_empty() {
            name.to_string()
        } else {
            format!("{}/{}", self.scopes.join("/"), name)
        }
    }

    fn declare(&mut self, name: &str, kind: Kind, default: Value) -> Value {
        let full = self.full_name(name);
        if !self.space.iter().any(|h| h.name == full) {
            self.space.push(HyperParameter {
                name: full.clone(),
                kind: kind.clone(),
                default: default.clone(),
                conditions: self.conditions.clone(),
            });
        }
        match self.values.get(&full) {
            Some(v) if self.space.iter().any(|h| h.name == full && h.admits(v)) => v.clone(),
            _ => {
                // A fixed value always wins; otherwise record the default so the trial shows it.
                let v = if let Kind::Fixed { value } = kind {
                    value
                } else {
                    default
                };
                self.values.insert(full, v.clone());
                v
            }
        }
    }

    /// A choice among strings.
    pub fn choice_str(&mut self, name: &str, values: &[&str], default: &str) -> String {
        let vals = values.iter().map(|v| Value::from(*v)).collect();
        let v = self.declare(name, Kind::Choice { values: vals }, default.into());
        v.as_str().unwrap_or(default).to_string()
    }

    /// A choice among integers.
    pub fn choice_i64(&mut self, name: &str, values: &[i64], default: i64) -> i64 {
        let vals = values.iter().map(|v| Value::Int(*v)).collect();
        self.declare(name, Kind::Choice { values: vals }, Value::Int(default))
            .as_i64()
            .unwrap_or(default)
    }

    /// A choice among reals.
    pub fn choice_f64(&mut self, name: &str, values: &[f64], default: f64) -> f64 {
        let vals = values.iter().map(|v| Value::Float(*v)).collect();
        self.declare(name, Kind::Choice { values: vals }, Value::Float(default))
            .as_f64()
            .unwrap_or(default)
    }

    /// An integer range.
    pub fn int(&mut self, name: &str, min: i64, max: i64, step: i64, default: i64) -> i64 {
        let kind = Kind::Int {
            min,
            max,
            step,
            sampling: Sampling::Linear,
        };
        self.declare(name, kind, Value::Int(default))
            .as_i64()
            .unwrap_or(default)
    }

    /// A real range, sampled linearly or in the logarithm.
    pub fn float(
        &mut self,
        name: &str,
        min: f64,
        max: f64,
        sampling: Sampling,
        default: f64,
    ) -> f64 {
        let kind = Kind::Float { min, max, sampling };
        self.declare(name, kind, Value::Float(default))
            .as_f64()
            .unwrap_or(default)
    }

    /// True or false.
    pub fn boolean(&mut self, name: &str, default: bool) -> bool {
        self.declare(name, Kind::Boolean, Value::Bool(default))
            .as_bool()
            .unwrap_or(default)
    }

    /// A fixed value, recorded in the space so that a trial shows it.
    pub fn fixed(&mut self, name: &str, value: impl Into<Value>) -> Value {
        let value = value.into();
        self.declare(
            name,
            Kind::Fixed {
                value: value.clone(),
            },
            value,
        )
    }
}

/// A block argument: fixed by the user, left to the search, or restricted to a list.
///
/// ```
/// use autocandle::hyperparameters::{HyperParameters, Tunable};
/// let mut hp = HyperParameters::new();
/// let fixed: Tunable<i64> = 3.into();
/// assert_eq!(fixed.choose(&mut hp, "kernel_size", &[3, 5, 7], 3), 3);
/// let tuned: Tunable<i64> = Tunable::Tune;
/// assert_eq!(tuned.choose(&mut hp, "num_blocks", &[1, 2, 3], 2), 2);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Tunable<T> {
    /// Searched over the block's default range.
    #[default]
    Tune,
    /// Fixed to this value.
    Fixed(T),
    /// Searched over these values only.
    Choices(Vec<T>),
}

impl<T> From<T> for Tunable<T> {
    fn from(v: T) -> Self {
        Tunable::Fixed(v)
    }
}

/// Values a [`Tunable`] can hold.
pub trait TunableValue: Clone + PartialEq {
    /// As a hyperparameter value.
    fn to_value(&self) -> Value;
    /// Back from a hyperparameter value.
    fn from_value(v: &Value) -> Option<Self>;
}

impl TunableValue for i64 {
    fn to_value(&self) -> Value {
        Value::Int(*self)
    }
    fn from_value(v: &Value) -> Option<Self> {
        v.as_i64()
    }
}
impl TunableValue for f64 {
    fn to_value(&self) -> Value {
        Value::Float(*self)
    }
    fn from_value(v: &Value) -> Option<Self> {
        v.as_f64()
    }
}
impl TunableValue for bool {
    fn to_value(&self) -> Value {
        Value::Bool(*self)
    }
    fn from_value(v: &Value) -> Option<Self> {
        v.as_bool()
    }
}
impl TunableValue for String {
    fn to_value(&self) -> Value {
        Value::Str(self.clone())
    }
    fn from_value(v: &Value) -> Option<Self> {
        v.as_str().map(str::to_string)
    }
}

impl<T: TunableValue> Tunable<T> {
    /// The value for this trial: the fixed one, or a choice over `values` (or the user's list).
    pub fn choose(&self, hp: &mut HyperParameters, name: &str, values: &[T], default: T) -> T {
        match self {
            Tunable::Fixed(v) => {
                hp.fixed(name, v.to_value());
                v.clone()
            }
            Tunable::Tune => choose_from(hp, name, values, default),
            Tunable::Choices(list) if !list.is_empty() => {
                let d = if list.contains(&default) {
                    default
                } else {
                    list[0].clone()
                };
                choose_from(hp, name, list, d)
            }
            Tunable::Choices(_) => default,
        }
    }
}

impl Tunable<bool> {
    /// The value for this trial as a boolean hyperparameter.
    pub fn choose_bool(&self, hp: &mut HyperParameters, name: &str, default: bool) -> bool {
        match self {
            Tunable::Tune => hp.boolean(name, default),
            _ => self.choose(hp, name, &[false, true], default),
        }
    }
}

fn choose_from<T: TunableValue>(
    hp: &mut HyperParameters,
    name: &str,
    values: &[T],
    default: T,
) -> T {
    let vals = values.iter().map(TunableValue::to_value).collect();
    let v = hp.declare(name, Kind::Choice { values: vals }, default.to_value());
    T::from_value(&v).unwrap_or(default)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn conditional_hyperparameters_are_inactive_when_parent_differs() {
        let mut hp = HyperParameters::new();
        let t = hp.choice_str("block_type", &["vanilla", "resnet"], "vanilla");
        assert_eq!(t, "vanilla");
        hp.conditional("block_type", &["resnet".into()], |hp| {
            hp.choice_i64("depth", &[1, 2, 3], 2)
        });
        let depth = hp
            .space()
            .iter()
            .find(|h| h.name == "depth")
            .unwrap()
            .clone();
        assert!(!hp.is_active(&depth));
        assert!(!hp.active_values().contains_key("depth"));
        hp.set("block_type", "resnet").unwrap();
        assert!(hp.is_active(&depth));
        assert_eq!(hp.active_values()["depth"], Value::Int(2));
    }

    #[test]
    fn set_rejects_out_of_range_values() {
        let mut hp = HyperParameters::new();
        hp.choice_i64("units", &[16, 32], 16);
        assert!(hp.set("units", 64i64).is_err());
        assert!(hp.set("units", 32i64).is_ok());
        assert_eq!(hp.choice_i64("units", &[16, 32], 16), 32);
    }

    #[test]
    fn sampling_stays_in_range_and_log_spreads_over_decades() {
        let h = HyperParameter {
            name: "lr".into(),
            kind: Kind::Float {
                min: 1e-5,
                max: 1e-1,
                sampling: Sampling::Log,
            },
            default: Value::Float(1e-3),
            conditions: vec![],
        };
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
        let xs: Vec<f64> = (0..1000)
            .map(|_| h.sample(&mut rng).as_f64().unwrap())
            .collect();
        assert!(xs.iter().all(|x| (1e-5..=1e-1).contains(x)));
        let below_1e3 = xs.iter().filter(|x| **x < 1e-3).count();
        assert!((400..600).contains(&below_1e3), "{below_1e3}");
        let i = HyperParameter {
            name: "n".into(),
            kind: Kind::Int {
                min: 2,
                max: 10,
                step: 2,
                sampling: Sampling::Linear,
            },
            default: Value::Int(2),
            conditions: vec![],
        };
        for _ in 0..100 {
            let v = i.sample(&mut rng).as_i64().unwrap();
            assert!(v % 2 == 0 && (2..=10).contains(&v));
        }
    }

    #[test]
    fn json_round_trip_keeps_space_values_and_conditions() {
        let mut hp = HyperParameters::new();
        hp.scoped("image_block_1", |hp| {
            hp.choice_str("block_type", &["vanilla", "resnet"], "vanilla");
            hp.conditional("image_block_1/block_type", &["resnet".into()], |hp| {
                hp.int("depth", 1, 3, 1, 1)
            });
            hp.float("lr", 1e-4, 1e-1, Sampling::Log, 1e-3);
            hp.boolean("normalize", true);
            hp.fixed("kernel", 3i64);
        });
        let s = serde_json::to_string_pretty(&hp).unwrap();
        let back: HyperParameters = serde_json::from_str(&s).unwrap();
        assert_eq!(back, hp);
        assert_eq!(
            back.space()[1].conditions[0].parent,
            "image_block_1/block_type"
        );
        assert_eq!(back.get("image_block_1/lr"), Some(&Value::Float(1e-3)));
    }

    #[test]
    fn tunable_fixed_is_recorded_and_choices_restrict() {
        let mut hp = HyperParameters::new();
        let t: Tunable<i64> = Tunable::Choices(vec![5, 7]);
        assert_eq!(t.choose(&mut hp, "k", &[3, 5, 7], 3), 5);
        assert_eq!(
            hp.space()[0].kind,
            Kind::Choice {
                values: vec![Value::Int(5), Value::Int(7)]
            }
        );
        let f: Tunable<bool> = true.into();
        assert!(f.choose_bool(&mut hp, "b", false));
        assert_eq!(
            hp.space()[1].kind,
            Kind::Fixed {
                value: Value::Bool(true)
            }
        );
    }
}
