import { decodeEntities, htmlToText } from './html-to-text';

describe(htmlToText.name, () => {
  it('breaks lines at blocks and rows, separates cells by tabs and drops tags', () => {
    const html = `<html><head><title>T</title><style>p { color: red }</style></head><body>
      <p>Hello <b>Ann</b>,</p>
      <p>line one<br />line   two</p>
      <table><tr><th>Product</th><th>Price</th></tr>
        <tr><td>Tea</td><td>1,50&nbsp;kr</td></tr></table>
      <ul><li>first</li><li>second</li></ul>
      <!-- a comment --><script>alert(1)</script><div>end</div></body></html>`;
    expect(htmlToText(html)).toBe('Hello Ann,\n\nline one\nline two\n\nProduct\tPrice\nTea\t1,50\u00a0kr\n\n- first\n- second\n\nend');
  });

  it('decodes entities once, after the tags are gone', () => {
    expect(htmlToText('<p>&lt;script&gt;x&lt;/script&gt; &amp;amp; &#x27;q&#39; &#x3D; &euro;</p>')).toBe(
      "<script>x</script> &amp; 'q' = €",
    );
    expect(decodeEntities('&unknown; &#0; &#x110000;')).toBe('&unknown; &#0; &#x110000;');
  });
});
