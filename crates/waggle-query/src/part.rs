//! One part as the engine reads it: columns decoded on demand and at most once, derived columns
//! (`duration_ms`, `trace.trace_id`, `meta.*`) computed from the fixed columns, and `root.` columns
//! gathered from the root table.

use std::sync::Arc;

use rustc_hash::FxHashMap;
use waggle_model::{EventKind, Value, names};
use waggle_store::columns::Ids;
use waggle_store::{CellType, Column, Part, StoreError};

use crate::Result;
use crate::roots::RootTable;

/// Prefix naming the value on the row's trace root span.
pub(crate) const ROOT_PREFIX: &str = "root.";

/// A column a query names: a field, a derived column, or either on the trace's root span.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct ColumnRef {
    /// The name without `root.`.
    pub name: String,
    /// True for `root.<name>`.
    pub root: bool,
}

impl ColumnRef {
    /// From a name as written in a query.
    pub(crate) fn parse(text: &str) -> Self {
        match text.strip_prefix(ROOT_PREFIX) {
            Some(name) if !name.is_empty() => Self { name: name.to_owned(), root: true },
            _ => Self { name: text.to_owned(), root: false },
        }
    }

    /// The same column on the row itself.
    pub(crate) fn on_row(&self) -> Self {
        Self { name: self.name.clone(), root: false }
    }
}

/// One cell, borrowed from a [`ColumnView`].
#[derive(Debug, Clone, Copy)]
pub(crate) enum Cell<'a> {
    Null,
    /// An index into [`ColumnView::dict`].
    Str(u32),
    Int(i64),
    Float(f64),
    Bool(bool),
    Other(Option<&'a Value>),
}

/// Every cell type, in discriminant order (`Null` first: [`ColumnView::only_type`] relies on it).
const CELL_TYPES: [CellType; 6] =
    [CellType::Null, CellType::Str, CellType::Int, CellType::Float, CellType::Bool, CellType::Other];

/// A decoded column of a part, whatever its source.
#[derive(Debug, Clone, Copy)]
pub(crate) enum ColumnView<'a> {
    /// No row has the column.
    Missing,
    Column(&'a Column),
    /// `duration_ms`: durations in ns, shown as float milliseconds.
    DurationsMs(&'a [i64]),
    /// `timestamp`: unix ns, as an int.
    Times(&'a [i64]),
}

impl<'a> ColumnView<'a> {
    #[inline]
    pub(crate) fn cell(&self, row: usize) -> Cell<'a> {
        match self {
            Self::Missing => Cell::Null,
            Self::DurationsMs(durations) => Cell::Float(durations[row] as f64 / 1e6),
            Self::Times(times) => Cell::Int(times[row]),
            Self::Column(column) => match column.types[row] {
                CellType::Null => Cell::Null,
                CellType::Str => Cell::Str(column.codes[row]),
                CellType::Int => Cell::Int(column.ints[row]),
                CellType::Float => Cell::Float(column.floats[row]),
                CellType::Bool => Cell::Bool(column.bools[row]),
                CellType::Other => Cell::Other(column.others[row].as_ref()),
            },
        }
    }

    /// The one type of every non-null cell (`Null` when all are null); `None` for a column mixing
    /// types. Lets per-row loops skip the type dispatch of [`ColumnView::cell`].
    pub(crate) fn only_type(&self) -> Option<CellType> {
        match self {
            Self::Missing => Some(CellType::Null),
            Self::DurationsMs(_) => Some(CellType::Float),
            Self::Times(_) => Some(CellType::Int),
            Self::Column(column) => {
                // The largest type code and the smallest non-null one (Null is 0: minus one, it
                // wraps to 255): byte maximums and minimums, which vectorize. One type when equal.
                let high = column.types.iter().fold(0u8, |high, &cell| high.max(cell as u8));
                let low = column.types.iter().fold(u8::MAX, |low, &cell| low.min((cell as u8).wrapping_sub(1)));
                match high {
                    0 => Some(CellType::Null),
                    _ if low.wrapping_add(1) == high => CELL_TYPES.get(high as usize).copied(),
                    _ => None,
                }
            }
        }
    }

    /// The strings `Cell::Str` codes index.
    pub(crate) fn dict(&self) -> &'a [Arc<str>] {
        match self {
            Self::Column(column) => &column.dict,
            _ => &[],
        }
    }
}

/// A part being read: what has been decoded so far.
pub(crate) struct PartData<'a> {
    reader: Box<dyn waggle_store::PartReader + 'a>,
    rows: usize,
    roots: Option<&'a RootTable>,
    times: Option<Arc<[i64]>>,
    durations: Option<Arc<[i64]>>,
    kinds: Option<Arc<[EventKind]>>,
    ids: Option<Arc<Ids>>,
    columns: FxHashMap<ColumnRef, Option<Arc<Column>>>,
}

impl<'a> PartData<'a> {
    /// Opens a part; nothing is decoded yet. `roots` resolves `root.` columns.
    pub(crate) fn open(part: &'a dyn Part, roots: Option<&'a RootTable>) -> Result<Self> {
        Ok(Self {
            reader: part.open()?,
            rows: part.info().rows as usize,
            roots,
            times: None,
            durations: None,
            kinds: None,
            ids: None,
            columns: FxHashMap::default(),
        })
    }

    /// Rows in the part; 0 once a read found the part's file gone (deleted by retention since the
    /// snapshot), which reads as empty.
    pub(crate) fn rows(&self) -> usize {
        self.rows
    }

    /// Checks a decoded column's length against the part's rows.
    fn checked<T: ?Sized>(&mut self, values: Arc<T>, len: usize, what: &str) -> Result<Arc<T>> {
        if len == self.rows {
            Ok(values)
        } else if len == 0 {
            self.rows = 0;
            Ok(values)
        } else {
            Err(StoreError::Corrupt(format!("a part of {} rows decoded {len} {what}", self.rows)).into())
        }
    }

    pub(crate) fn times(&mut self) -> Result<&[i64]> {
        if self.times.is_none() {
            let times = self.reader.times()?;
            self.times = Some(self.checked(times.clone(), times.len(), "times")?);
        }
        Ok(self.times.as_deref().unwrap_or_default())
    }

    pub(crate) fn durations(&mut self) -> Result<&[i64]> {
        if self.durations.is_none() {
            let durations = self.reader.durations()?;
            self.durations = Some(self.checked(durations.clone(), durations.len(), "durations")?);
        }
        Ok(self.durations.as_deref().unwrap_or_default())
    }

    pub(crate) fn kinds(&mut self) -> Result<&[EventKind]> {
        if self.kinds.is_none() {
            let kinds = self.reader.kinds()?;
            self.kinds = Some(self.checked(kinds.clone(), kinds.len(), "kinds")?);
        }
        Ok(self.kinds.as_deref().unwrap_or_default())
    }

    pub(crate) fn ids(&mut self) -> Result<&Ids> {
        if self.ids.is_none() {
            let ids = self.reader.ids()?;
            let lens = [ids.trace_ids.len(), ids.span_ids.len(), ids.parent_ids.len()];
            let len = if lens.iter().all(|len| *len == lens[0]) { lens[0] } else { usize::MAX };
            self.ids = Some(self.checked(ids, len, "ids")?);
        }
        Ok(self.ids.as_ref().expect("just loaded"))
    }

    /// Decodes what a column needs; [`PartData::view`] then borrows it.
    pub(crate) fn load(&mut self, column: &ColumnRef) -> Result<()> {
        if column.root {
            return self.load_root(column);
        }
        match column.name.as_str() {
            names::DURATION_MS => self.durations().map(drop),
            names::TIMESTAMP => self.times().map(drop),
            _ if self.columns.contains_key(column) => Ok(()),
            names::TRACE_ID => {
                let ids = self.ids()?;
                let built = hex_column(ids.trace_ids.iter().map(|id| id.map(|id| id.0)));
                self.columns.insert(column.clone(), Some(Arc::new(built)));
                Ok(())
            }
            names::SPAN_ID | names::PARENT_ID => {
                let ids = self.ids()?;
                let source = if column.name == names::SPAN_ID { &ids.span_ids } else { &ids.parent_ids };
                let built = hex_column(source.iter().map(|id| id.map(|id| id.0)));
                self.columns.insert(column.clone(), Some(Arc::new(built)));
                Ok(())
            }
            names::SIGNAL_TYPE | names::ANNOTATION_TYPE => {
                let signal = column.name == names::SIGNAL_TYPE;
                let kinds = self.kinds()?;
                let built =
                    kind_column(kinds, |kind| if signal { Some(kind.signal_type()) } else { kind.annotation_type() });
                self.columns.insert(column.clone(), Some(Arc::new(built)));
                Ok(())
            }
            name => {
                let decoded = match self.reader.column(name)? {
                    Some(found) if found.len() != self.rows => {
                        if !found.is_empty() {
                            let message =
                                format!("a part of {} rows decoded {} cells of {name}", self.rows, found.len());
                            return Err(StoreError::Corrupt(message).into());
                        }
                        self.rows = 0;
                        None
                    }
                    other => other,
                };
                self.columns.insert(column.clone(), decoded);
                Ok(())
            }
        }
    }

    /// Gathers each row's root value of a column: rows whose trace root was not found get null.
    fn load_root(&mut self, column: &ColumnRef) -> Result<()> {
        if self.columns.contains_key(column) {
            return Ok(());
        }
        let Some(roots) = self.roots else {
            return Err(StoreError::Corrupt(format!("root.{} read without a root table", column.name)).into());
        };
        let trace_ids = &self.ids()?.trace_ids;
        let root_rows: Vec<Option<u32>> = trace_ids.iter().map(|id| id.and_then(|id| roots.row_of(&id))).collect();
        let gathered = roots.column(&column.on_row()).map(|root_column| gather(root_column, &root_rows));
        self.columns.insert(column.clone(), gathered.map(Arc::new));
        Ok(())
    }

    /// A loaded column. Call [`PartData::load`] first.
    pub(crate) fn view(&self, column: &ColumnRef) -> ColumnView<'_> {
        if !column.root {
            match column.name.as_str() {
                names::DURATION_MS => return ColumnView::DurationsMs(self.durations.as_deref().unwrap_or_default()),
                names::TIMESTAMP => return ColumnView::Times(self.times.as_deref().unwrap_or_default()),
                _ => {}
            }
        }
        match self.columns.get(column) {
            Some(Some(column)) => ColumnView::Column(column),
            _ => ColumnView::Missing,
        }
    }

    /// The loaded times (after [`PartData::times`]).
    pub(crate) fn loaded_times(&self) -> &[i64] {
        self.times.as_deref().unwrap_or_default()
    }

    /// The loaded durations (after [`PartData::durations`]).
    pub(crate) fn loaded_durations(&self) -> &[i64] {
        self.durations.as_deref().unwrap_or_default()
    }

    /// The loaded kinds (after [`PartData::kinds`]).
    pub(crate) fn loaded_kinds(&self) -> &[EventKind] {
        self.kinds.as_deref().unwrap_or_default()
    }

    /// The loaded ids (after [`PartData::ids`]).
    pub(crate) fn loaded_ids(&self) -> Option<&Ids> {
        self.ids.as_deref()
    }
}

/// A string column of lowercase hex ids, each distinct id once in the dictionary.
fn hex_column<const N: usize>(ids: impl ExactSizeIterator<Item = Option<[u8; N]>>) -> Column {
    let mut column =
        Column { types: Vec::with_capacity(ids.len()), codes: Vec::with_capacity(ids.len()), ..Column::default() };
    let mut lookup: FxHashMap<[u8; N], u32> = FxHashMap::default();
    for id in ids {
        match id {
            Some(bytes) => {
                let code = *lookup.entry(bytes).or_insert_with(|| {
                    column.dict.push(Arc::from(hex::encode(bytes)));
                    column.dict.len() as u32 - 1
                });
                column.types.push(CellType::Str);
                column.codes.push(code);
            }
            None => {
                column.types.push(CellType::Null);
                column.codes.push(0);
            }
        }
    }
    column
}

/// A string column from row kinds.
fn kind_column(kinds: &[EventKind], name: impl Fn(EventKind) -> Option<&'static str>) -> Column {
    let mut column =
        Column { types: Vec::with_capacity(kinds.len()), codes: Vec::with_capacity(kinds.len()), ..Column::default() };
    let mut codes: [Option<u32>; 5] = [None; 5];
    for kind in kinds {
        match name(*kind) {
            Some(text) => {
                let code = *codes[*kind as usize].get_or_insert_with(|| {
                    column.dict.push(Arc::from(text));
                    column.dict.len() as u32 - 1
                });
                column.types.push(CellType::Str);
                column.codes.push(code);
            }
            None => {
                column.types.push(CellType::Null);
                column.codes.push(0);
            }
        }
    }
    column
}

/// A column of `rows.len()` rows taking row `rows[i]` of `source` (null where `None`), with a
/// compact dictionary of the strings used.
pub(crate) fn gather(source: &Column, rows: &[Option<u32>]) -> Column {
    gather_view(ColumnView::Column(source), rows)
}

/// [`gather`] from any view.
pub(crate) fn gather_view(source: ColumnView<'_>, rows: &[Option<u32>]) -> Column {
    let num_rows = rows.len();
    let mut column = Column {
        types: Vec::with_capacity(num_rows),
        ints: vec![0; num_rows],
        floats: vec![0.0; num_rows],
        bools: vec![false; num_rows],
        codes: vec![0; num_rows],
        ..Column::default()
    };
    let dict = source.dict();
    let mut remap: Vec<u32> = vec![u32::MAX; dict.len()];
    for (index, row) in rows.iter().enumerate() {
        let cell = row.map_or(Cell::Null, |row| source.cell(row as usize));
        let cell_type = match cell {
            Cell::Null => CellType::Null,
            Cell::Str(code) => {
                let local = &mut remap[code as usize];
                if *local == u32::MAX {
                    *local = column.dict.len() as u32;
                    column.dict.push(dict[code as usize].clone());
                }
                column.codes[index] = *local;
                CellType::Str
            }
            Cell::Int(number) => {
                column.ints[index] = number;
                CellType::Int
            }
            Cell::Float(number) => {
                column.floats[index] = number;
                CellType::Float
            }
            Cell::Bool(flag) => {
                column.bools[index] = flag;
                CellType::Bool
            }
            Cell::Other(value) => {
                column.others.resize(num_rows, None);
                column.others[index] = value.cloned();
                CellType::Other
            }
        };
        column.types.push(cell_type);
    }
    column
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_column_ref_parses_root_prefix() {
        assert_eq!(ColumnRef::parse("root.http.route"), ColumnRef { name: "http.route".into(), root: true });
        assert_eq!(ColumnRef::parse("http.route"), ColumnRef { name: "http.route".into(), root: false });
        assert_eq!(ColumnRef::parse("root."), ColumnRef { name: "root.".into(), root: false });
    }

    #[test]
    fn test_gather_remaps_dictionary_and_keeps_types() {
        let mut builder = waggle_store::columns::ColumnBuilder::with_capacity(4);
        builder.push_str("a");
        builder.push_str("b");
        builder.push_int(7);
        builder.push(Some(&Value::Array(vec![Value::Int(1)])));
        let source = builder.finish();
        let gathered = gather(&source, &[Some(1), None, Some(2), Some(1), Some(3)]);
        let values: Vec<Option<Value>> = (0..5).map(|row| gathered.value(row)).collect();
        assert_eq!(
            values,
            vec![
                Some(Value::Str("b".into())),
                None,
                Some(Value::Int(7)),
                Some(Value::Str("b".into())),
                Some(Value::Array(vec![Value::Int(1)]))
            ]
        );
        assert_eq!(gathered.dict.len(), 1, "only the strings used");
    }

    #[test]
    fn test_only_type_names_the_one_type_or_none_when_mixed() {
        for (index, cell) in CELL_TYPES.iter().enumerate() {
            assert_eq!(*cell as usize, index);
        }
        let column = |values: &[Option<Value>]| {
            let mut builder = waggle_store::columns::ColumnBuilder::with_capacity(values.len());
            values.iter().for_each(|value| builder.push(value.as_ref()));
            builder.finish()
        };
        let cases = [
            (column(&[None, None]), Some(CellType::Null)),
            (column(&[None, Some(Value::Int(3)), Some(Value::Int(4))]), Some(CellType::Int)),
            (column(&[Some(Value::Str("a".into())), None]), Some(CellType::Str)),
            (column(&[Some(Value::Bool(true))]), Some(CellType::Bool)),
            (column(&[Some(Value::Map(Vec::new())), None]), Some(CellType::Other)),
            (column(&[Some(Value::Float(1.5)), Some(Value::Int(1))]), None),
            (column(&[Some(Value::Str("a".into())), None, Some(Value::Int(1))]), None),
        ];
        for (column, expected) in &cases {
            assert_eq!(ColumnView::Column(column).only_type(), *expected, "{:?}", column.types);
        }
    }
}
