//! X-Ray filter expressions: the grammar of the X-Ray console and GetTraceSummaries.
//!
//! ```text
//! expr    := and ("OR" and)*
//! and     := unary (["AND"] unary)*          juxtaposition is AND: `ok !partial duration < 3`
//! unary   := "!" unary | "(" expr ")" | term
//! term    := boolean [("=" | "!=") (true | false)]         ok error throttle fault partial inferred first last
//!          | number op number                               responsetime duration http.status
//!          | string op "text"                               http.url http.method http.useragent http.clientip
//!                                                           user name type availabilityzone instance.id resource.arn
//!          | annotation.KEY [op value]                      bare: the annotation is set
//!          | service([node]) [{expr}] | edge(node, node) [{expr}]
//!          | group.name ("=" | "!=") "g" | group.arn ("=" | "!=") "arn"
//! node    := "name" | id(name: "n", type: "t")
//! op      := = != < <= > >= CONTAINS BEGINSWITH ENDSWITH    (keywords and operators in any case)
//! ```
//!
//! Keywords, operators and values are checked when parsing; anything waggle cannot evaluate
//! (root-cause filters, `remote`, `root`, `index`, `coverage`, `message`, an unknown keyword)
//! is an error naming it, never a filter that silently matches everything.
//!
//! Semantics: outside `service()`/`edge()`, keywords describe the trace's entry point (its root
//! segment), except `duration` (the whole trace), `partial` (any segment in progress), and `user`,
//! `annotation.*`, `availabilityzone`, `instance.id`, `resource.arn` (any span of the trace).
//! Inside `service(...) {f}`, `f` must hold for one call of the service (a segment with its
//! subsegments); inside `edge(a, b) {f}`, for one call from `a` to `b`. `!=` is the negation of
//! `=`, so it also matches when the value is absent.

mod eval;
mod parse;

pub(crate) use eval::{GroupFilters, matches};
pub(crate) use parse::parse;

/// A parsed filter expression.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    /// A boolean keyword, true when it equals `expected`.
    Flag {
        keyword: FlagKeyword,
        expected: bool,
    },
    Number {
        keyword: NumberKeyword,
        op: Op,
        value: f64,
    },
    Text {
        keyword: TextKeyword,
        op: Op,
        value: String,
    },
    /// `annotation.KEY`, bare (`None`: is set) or compared.
    Annotation {
        key: String,
        comparison: Option<(Op, Literal)>,
    },
    Service {
        node: Option<NodeSelector>,
        filter: Option<Box<Expr>>,
    },
    Edge {
        from: NodeSelector,
        to: NodeSelector,
        filter: Option<Box<Expr>>,
    },
    /// `group.name = "g"` (by_arn false) or `group.arn = "..."`; `equal` false for `!=`.
    Group {
        by_arn: bool,
        value: String,
        equal: bool,
    },
}

/// `service("name")`, or `id(name: "n", type: "t")` with either part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NodeSelector {
    pub name: Option<String>,
    pub kind: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FlagKeyword {
    Ok,
    Error,
    Throttle,
    Fault,
    Partial,
    Inferred,
    First,
    Last,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NumberKeyword {
    ResponseTime,
    Duration,
    HttpStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TextKeyword {
    HttpUrl,
    HttpMethod,
    HttpUserAgent,
    HttpClientIp,
    User,
    Name,
    Type,
    AvailabilityZone,
    InstanceId,
    ResourceArn,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Contains,
    BeginsWith,
    EndsWith,
}

impl Op {
    fn is_numeric(self) -> bool {
        matches!(self, Op::Eq | Op::Ne | Op::Lt | Op::Le | Op::Gt | Op::Ge)
    }

    fn is_textual(self) -> bool {
        matches!(self, Op::Eq | Op::Ne | Op::Contains | Op::BeginsWith | Op::EndsWith)
    }

    fn spelling(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Contains => "CONTAINS",
            Op::BeginsWith => "BEGINSWITH",
            Op::EndsWith => "ENDSWITH",
        }
    }
}

/// A value in an expression.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Literal {
    Number(f64),
    Text(String),
    Bool(bool),
}

#[cfg(test)]
mod tests;

impl Expr {
    /// The groups (names or ARNs) the expression refers to.
    pub(crate) fn group_refs(&self) -> Vec<&str> {
        match self {
            Expr::And(left, right) | Expr::Or(left, right) => {
                let mut refs = left.group_refs();
                refs.extend(right.group_refs());
                refs
            }
            Expr::Not(inner) => inner.group_refs(),
            Expr::Group { value, .. } => vec![value.as_str()],
            _ => Vec::new(),
        }
    }
}
