// The one thing both peers share with ChatBot: a streamed chat completion from the same fake OpenAI-compatible model.
// Plain fetch + server-sent events, as the OpenAI REST API documents them; calls onText for every piece.
export async function streamAnswer(modelUrl, question, onText) {
  const response = await fetch(`${modelUrl.replace(/\/$/, '')}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer bench-key' },
    body: JSON.stringify({
      model: 'bench-model',
      stream: true,
      messages: [
        { role: 'system', content: 'You answer employees from the company knowledge.' },
        { role: 'user', content: question },
      ],
    }),
  });
  if (!response.ok) throw new Error(`model answered ${response.status}`);
  const decoder = new TextDecoder();
  let buffer = '';
  let text = '';
  for await (const chunk of response.body) {
    buffer += decoder.decode(chunk, { stream: true });
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      for (const line of event.split('\n')) {
        if (!line.startsWith('data: ') || line === 'data: [DONE]') continue;
        const piece = JSON.parse(line.slice(6)).choices?.[0]?.delta?.content;
        if (piece) {
          text += piece;
          await onText(piece);
        }
      }
    }
  }
  return text;
}
