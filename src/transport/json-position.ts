/* Where JSON text stops being JSON. Node 20's JSON.parse often says what is
 * wrong without saying where; an operator needs the line. Called only after
 * JSON.parse has failed, so it only has to find the first bad byte. */

const WS = new Set([' ', '\t', '\n', '\r']);
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;

class Stop extends Error {
  constructor(readonly at: number) {
    super(`JSON stops at ${at}`);
  }
}

export function jsonErrorOffset(text: string): number {
  let i = 0;
  const ws = () => {
    while (i < text.length && WS.has(text[i]!)) i++;
  };
  const sticky = (re: RegExp) => {
    re.lastIndex = i;
    if (!re.test(text)) throw new Stop(i);
    i = re.lastIndex;
  };
  const expect = (c: string) => {
    if (text[i] !== c) throw new Stop(i);
    i++;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      i++;
      ws();
      if (text[i] === close) return void i++;
      for (;;) {
        if (c === '{') {
          ws();
          sticky(STRING);
          ws();
          expect(':');
        }
        value();
        ws();
        if (text[i] === close) return void i++;
        expect(',');
      }
    }
    if (c === '"') return sticky(STRING);
    for (const word of ['true', 'false', 'null']) if (text.startsWith(word, i)) return void (i += word.length);
    sticky(NUMBER);
  };
  try {
    value();
    ws();
    return i < text.length ? i : text.length;
  } catch (e) {
    if (e instanceof Stop) return e.at;
    throw e;
  }
}

/* 1-based line and column of an offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, column: before[before.length - 1]!.length + 1 };
}
