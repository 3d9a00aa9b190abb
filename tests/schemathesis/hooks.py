"""Teaches schemathesis the one format of the document it cannot know: `entity-tags`, the
`If-Match` header (RFC 9110: `*` or a comma-separated list of entity tags). Its pattern is
in the document too, but schemathesis 4.32's coverage phase cannot draw header values whose
pattern needs characters other than letters and digits, and, where the header is optional,
sends a value breaking the pattern in what it labels a valid request."""

from hypothesis import strategies as st

import schemathesis

# Visible ASCII but `"` (RFC 9110 `etagc`); commas are allowed inside a tag.
_opaque = st.text(
    st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters='"'),
    max_size=12,
)
_tag = st.builds(lambda weak, text: ("W/" if weak else "") + f'"{text}"', st.booleans(), _opaque)
_separator = st.sampled_from([",", ", ", " ,", "\t,\t"])


def _join(tags: list[str], separators: list[str]) -> str:
    joined = tags[0]
    for tag, separator in zip(tags[1:], separators):
        joined += separator + tag
    return joined


_list = st.lists(_tag, min_size=1, max_size=4).flatmap(
    lambda tags: st.lists(_separator, min_size=len(tags), max_size=len(tags)).map(
        lambda separators: _join(tags, separators)
    )
)

schemathesis.openapi.format("entity-tags", st.one_of(st.just("*"), _list))
