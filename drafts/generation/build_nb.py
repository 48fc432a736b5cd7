import nbformat as nbf, re, sys
src = open(__import__('pathlib').Path(__file__).with_name('nb_src.py')).read()
cells = []
for block in re.split(r'^# %%', src, flags=re.M)[1:]:
    head, _, body = block.partition('\n')
    body = body.strip('\n')
    tags = re.findall(r'tag=([\w-]+)', head)
    if '[markdown]' in head:
        body = '\n'.join(l[2:] if l.startswith('# ') else (l[1:] if l.startswith('#') else l) for l in body.split('\n'))
        c = nbf.v4.new_markdown_cell(body)
    else:
        c = nbf.v4.new_code_cell(body)
    if tags:
        c.metadata['tags'] = tags
    cells.append(c)
nb = nbf.v4.new_notebook(cells=cells)
nb.metadata['kernelspec'] = {'name': 'python3', 'display_name': 'Python 3', 'language': 'python'}
nb.metadata['language_info'] = {'name': 'python'}
nbf.write(nb, '/work/main/generation/generation.ipynb')
print(len(cells), 'cells')
