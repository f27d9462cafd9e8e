import { describe, expect, it } from 'vitest';
import { csvField, csvRow, parseCsv } from '../../../cloud/query/csv.ts';

describe('CSV', () => {
  it('writes RFC 4180 rows with CRLF and quotes only where needed', () => {
    expect(csvRow(['station', 12.5, null, 'a,b', 'say "hi"', 'two\nlines'])).toBe('station,12.5,,"a,b","say ""hi""","two\nlines"\r\n');
  });

  it('keeps negative numbers as numbers but defuses formula-like text', () => {
    expect(csvField(-3.5)).toBe('-3.5');
    expect(csvField('=HYPERLINK("http://x")')).toBe(`"'=HYPERLINK(""http://x"")"`);
    expect(csvField('+1')).toBe("'+1");
    expect(csvField('@SUM(A1)')).toBe("'@SUM(A1)");
  });

  it('round-trips through a parser', () => {
    const rows = [['a', 'b,c', 'd"e'], ['1', '', 'x\r\ny']];
    const text = rows.map((r) => csvRow(r)).join('');
    expect(parseCsv(text)).toEqual(rows);
  });
});
