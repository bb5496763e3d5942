// A server-sent events client for tests: reads a stream, collecting each event (name, parsed JSON data,
// arrival time) and each comment line, until closed.
export async function openSse(url: string, headers: Record<string, string>) {
  const ctl = new AbortController();
  const res = await fetch(url, { headers, signal: ctl.signal });
  const events: Array<{ event: string; data: any; at: number }> = [];
  const comments: string[] = [];
  if (res.ok) {
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let buf = '';
    void (async () => {
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          buf += decoder.decode(value, { stream: true });
          let i: number;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, i);
            buf = buf.slice(i + 2);
            let event = 'message';
            const data: string[] = [];
            for (const line of block.split('\n')) {
              if (line.startsWith(':')) comments.push(line.slice(1).trim());
              else if (line.startsWith('event: ')) event = line.slice(7);
              else if (line.startsWith('data: ')) data.push(line.slice(6));
            }
            if (data.length) events.push({ event, data: JSON.parse(data.join('\n')), at: Date.now() });
          }
        }
      } catch { /* aborted */ }
    })();
  }
  return { res, events, comments, close: () => ctl.abort() };
}
