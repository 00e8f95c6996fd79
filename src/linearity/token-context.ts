/**
 * A token shown with its context, for the per-token view: "…the little girl⟦ named⟧ Lily…".
 * Without a tokenizer the ids themselves are shown.
 */

/** Decodes ids to text (a tokenizer's `decode`). */
export type Decode = (ids: number[]) => string;

export interface TokenInContext {
  /** The token's own text, including a leading space it carries. */
  text: string;
  /** Up to `before` tokens, the token in ⟦ ⟧, up to `after` tokens. */
  context: string;
}

/** Makes control characters visible so a context stays on one line. */
export function visible(text: string): string {
  return text.replace(/\r/g, '\\r').replace(/\n/g, '\\n').replace(/\t/g, '\\t');
}

/**
 * The token at `position` of `ids` with its neighbours. Texts are taken as differences of
 * decodings of growing prefixes, so a token keeps the leading space a lone decode would drop.
 */
export function tokenInContext(ids: readonly number[], position: number, decode?: Decode, before = 12, after = 4): TokenInContext {
  const start = Math.max(0, position - before);
  const end = Math.min(ids.length, position + 1 + after);
  const left = ids.slice(start, position);
  const right = ids.slice(position + 1, end);
  const token = ids[position];
  if (!decode) {
    const join = (xs: readonly number[]) => xs.join(' ');
    return {
      text: String(token),
      context: `${start > 0 ? '… ' : ''}${join(left)} ⟦${token}⟧ ${join(right)}${end < ids.length ? ' …' : ''}`.replace(/\s+/g, ' ').trim(),
    };
  }
  const leftText = left.length ? decode(left) : '';
  const upToToken = decode([...left, token]);
  const text = upToToken.startsWith(leftText) ? upToToken.slice(leftText.length) : decode([token]);
  const all = decode([...left, token, ...right]);
  const rightText = all.startsWith(upToToken) ? all.slice(upToToken.length) : right.length ? decode(right) : '';
  return {
    text: visible(text),
    context: visible(`${start > 0 ? '…' : ''}${leftText}⟦${text}⟧${rightText}${end < ids.length ? '…' : ''}`),
  };
}
