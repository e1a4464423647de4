<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>BatchModel</name>
    <message>
        <source>Batch</source>
        <translation>批次</translation>
    </message>
    <message>
        <source>Fonds</source>
        <translation>全宗号</translation>
    </message>
    <message>
        <source>Year</source>
        <translation>年度</translation>
    </message>
    <message>
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Dossiers</source>
        <translation>案卷</translation>
    </message>
    <message>
        <source>Deadline</source>
        <translation>截止日期</translation>
    </message>
    <message>
        <source>Package digest (SM3)</source>
        <translation>移交包摘要（SM3）</translation>
    </message>
    <message>
        <source>not sealed yet</source>
        <translation>尚未封装</translation>
    </message>
</context>
<context>
    <name>BatchView</name>
    <message>
        <source>Year-end transfer: put approved dossiers of one year into a batch, seal and sign it, send it to the archive room, then import the archive room&apos;s receipt.</source>
        <translation>年终移交：把一个年度质检通过的案卷组成批次，封装并签名，发送给档案室，然后导入档案室的回执。</translation>
    </message>
    <message>
        <source>Select a batch to see its dossiers, deliveries and receipts.</source>
        <translation>选择一个批次，查看其案卷、发送记录和回执。</translation>
    </message>
    <message>
        <source>&amp;Create…</source>
        <translation>创建(&amp;C)…</translation>
    </message>
    <message>
        <source>Se&amp;al…</source>
        <translation>封装(&amp;A)…</translation>
    </message>
    <message>
        <source>Se&amp;nd…</source>
        <translation>发送(&amp;N)…</translation>
    </message>
    <message>
        <source>Import &amp;receipt…</source>
        <translation>导入回执(&amp;R)…</translation>
    </message>
    <message>
        <source>Cance&amp;l batch…</source>
        <translation>撤销批次(&amp;L)…</translation>
    </message>
    <message>
        <source>Re&amp;fresh</source>
        <translation>刷新(&amp;F)</translation>
    </message>
    <message>
        <source>Sealing: {done} of {total} files checked and placed…</source>
        <translation>正在封装：已检查并放置 {done} / {total} 个文件…</translation>
    </message>
    <message>
        <source>No batches yet. Create one with Create… (Ctrl+N).</source>
        <translation>还没有批次。请用“创建…”（Ctrl+N）创建。</translation>
    </message>
    <message>
        <source>Batch {id}: {state}, {d} dossier(s), {i} image(s), {b}; deadline {dl}</source>
        <translation>批次 {id}：{state}，{d} 个案卷，{i} 幅图像，{b}；截止日期 {dl}</translation>
    </message>
    <message>
        <source>Sent to {p} ({n}) at {at}</source>
        <translation>{at} 已发送到 {p}（{n}）</translation>
    </message>
    <message>
        <source>Batch {id} sealed and signed ({alg}): {f} file(s), {n}. Package: {p}</source>
        <translation>批次 {id} 已封装并签名（{alg}）：{f} 个文件，{n}。移交包：{p}</translation>
    </message>
    <message>
        <source>Batch {id} sent to {p} ({n}, verified on the destination).</source>
        <translation>批次 {id} 已发送到 {p}（{n}，已在目标位置校验）。</translation>
    </message>
    <message>
        <source>Package: {p}</source>
        <translation>移交包：{p}</translation>
    </message>
    <message>
        <source>Tag manifest SM3: {d}</source>
        <translation>标签清单 SM3：{d}</translation>
    </message>
    <message>
        <source>Delivery attempt {n} to {d} failed: {e}</source>
        <translation>第 {n} 次发送到 {d} 失败：{e}</translation>
    </message>
    <message>
        <source>Receipt {id}: {decision}, issued {at} by {by}</source>
        <translation>回执 {id}：{decision}，{by} 于 {at} 签发</translation>
    </message>
    <message>
        <source>Batch {id} created: {d} dossier(s), deadline {dl}.</source>
        <translation>已创建批次 {id}：{d} 个案卷，截止日期 {dl}。</translation>
    </message>
    <message>
        <source>Creating a batch of {y}…</source>
        <translation>正在创建 {y} 年度的批次…</translation>
    </message>
    <message>
        <source>Seal batch {id}</source>
        <translation>封装批次 {id}</translation>
    </message>
    <message>
        <source>Batch {id} is sealed into a signed BagIt package in the outbox. Every image is read again and compared with its checksum from capture.</source>
        <translation>批次 {id} 将封装为已签名的 BagIt 移交包，放入发件箱。每个图像都会重新读取并与采集时的校验值比对。</translation>
    </message>
    <message>
        <source>optional, e.g. network share or removable drive</source>
        <translation>可选，例如网络共享目录或移动硬盘</translation>
    </message>
    <message>
        <source>Ca&amp;rrier:</source>
        <translation>载体(&amp;R)：</translation>
    </message>
    <message>
        <source>Sealing batch {id}…</source>
        <translation>正在封装批次 {id}…</translation>
    </message>
    <message>
        <source>Send batch {id}</source>
        <translation>发送批次 {id}</translation>
    </message>
    <message>
        <source>Attempt {n} failed ({e}); trying again in {w} s.</source>
        <translation>第 {n} 次尝试失败（{e}）；{w} 秒后重试。</translation>
    </message>
    <message>
        <source>Sending batch {id} to {d}…</source>
        <translation>正在将批次 {id} 发送到 {d}…</translation>
    </message>
    <message>
        <source>Choose the archive room&apos;s receipt</source>
        <translation>选择档案室回执</translation>
    </message>
    <message>
        <source>Receipts (*.json);;All files (*)</source>
        <translation>回执 (*.json);;所有文件 (*)</translation>
    </message>
    <message>
        <source>Receipt {r} imported: batch {id} is now {state} (signed by {by}).</source>
        <translation>已导入回执 {r}：批次 {id} 现为 {state}（{by} 签署）。</translation>
    </message>
    <message>
        <source>Importing the receipt {f}…</source>
        <translation>正在导入回执 {f}…</translation>
    </message>
    <message>
        <source>Cancel batch {id}</source>
        <translation>撤销批次 {id}</translation>
    </message>
    <message>
        <source>Cancel batch {id}? Its dossiers become approved again; a sealed package is moved aside in the outbox, not deleted.</source>
        <translation>撤销批次 {id}？其中案卷恢复为质检通过状态；已封装的移交包在发件箱中移到一旁，不会删除。</translation>
    </message>
    <message>
        <source>Batch {id} cancelled; its dossiers are approved again.</source>
        <translation>批次 {id} 已撤销；其中案卷恢复为质检通过状态。</translation>
    </message>
    <message>
        <source>Cancelling batch {id}…</source>
        <translation>正在撤销批次 {id}…</translation>
    </message>
</context>
<context>
    <name>CatalogExportDialog</name>
    <message>
        <source>Export the catalog (数据挂接)</source>
        <translation>导出目录（数据挂接）</translation>
    </message>
    <message>
        <source>Year</source>
        <translation>年度</translation>
    </message>
    <message>
        <source>Transfer batch</source>
        <translation>移交批次</translation>
    </message>
    <message>
        <source>Whole catalog</source>
        <translation>全部目录</translation>
    </message>
    <message>
        <source>a new or empty folder</source>
        <translation>新的或空的目录</translation>
    </message>
    <message>
        <source>The catalog in the column order archive systems import, and the images in one folder per 档号 with a checksum file.</source>
        <translation>按档案管理系统导入的列顺序导出目录，图像按档号分目录存放，并附校验文件。</translation>
    </message>
    <message>
        <source>&amp;Scope:</source>
        <translation>范围(&amp;S)：</translation>
    </message>
    <message>
        <source>&amp;Year:</source>
        <translation>年度(&amp;Y)：</translation>
    </message>
    <message>
        <source>&amp;Batch:</source>
        <translation>批次(&amp;B)：</translation>
    </message>
    <message>
        <source>&amp;Format:</source>
        <translation>格式(&amp;F)：</translation>
    </message>
    <message>
        <source>Catalog fi&amp;le:</source>
        <translation>目录文件(&amp;L)：</translation>
    </message>
    <message>
        <source>Choose the catalog file</source>
        <translation>选择目录文件</translation>
    </message>
    <message>
        <source>B&amp;rowse…</source>
        <translation>浏览(&amp;R)…</translation>
    </message>
    <message>
        <source>Catalogs (*.xlsx *.csv *.xml)</source>
        <translation>目录文件 (*.xlsx *.csv *.xml)</translation>
    </message>
    <message>
        <source>&amp;Image folder:</source>
        <translation>图像目录(&amp;I)：</translation>
    </message>
    <message>
        <source>Choose the image folder</source>
        <translation>选择图像目录</translation>
    </message>
    <message>
        <source>Br&amp;owse…</source>
        <translation>浏览(&amp;O)…</translation>
    </message>
</context>
<context>
    <name>CoverSheetDialog</name>
    <message>
        <source>Print cover sheets (分隔页)</source>
        <translation>打印案卷分隔页（封面）</translation>
    </message>
    <message>
        <source>One A4 sheet per dossier, put in front of its pages in the feeder. List a year, select the dossiers (Ctrl or Shift for several), then print the selected ones or all listed.</source>
        <translation>每个案卷一张 A4 分隔页，扫描时放在该案卷第一页之前。先列出一个年度，再选择案卷（按住 Ctrl 或 Shift 可多选），然后打印所选案卷或列出的全部案卷。</translation>
    </message>
    <message>
        <source>Year</source>
        <translation>年度</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>all not yet completed</source>
        <translation>所有未完成的</translation>
    </message>
    <message>
        <source>not scanned</source>
        <translation>未扫描</translation>
    </message>
    <message>
        <source>scanning started</source>
        <translation>扫描中</translation>
    </message>
    <message>
        <source>returned by QC</source>
        <translation>质检退回</translation>
    </message>
    <message>
        <source>&amp;List</source>
        <translation>列出(&amp;L)</translation>
    </message>
    <message>
        <source>&amp;Year:</source>
        <translation>年度(&amp;Y)：</translation>
    </message>
    <message>
        <source>S&amp;tatus:</source>
        <translation>状态(&amp;T)：</translation>
    </message>
    <message>
        <source>Print &amp;selected</source>
        <translation>打印所选案卷(&amp;S)</translation>
    </message>
    <message>
        <source>Print &amp;all listed</source>
        <translation>打印全部列出的(&amp;A)</translation>
    </message>
    <message>
        <source>&amp;Open PDF</source>
        <translation>打开 PDF(&amp;O)</translation>
    </message>
    <message>
        <source>Open the sheets in the PDF viewer, to look at them or print them</source>
        <translation>用 PDF 阅读器打开分隔页，查看或打印</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>关闭</translation>
    </message>
    <message>
        <source>{n} dossier(s) listed</source>
        <translation>列出 {n} 个案卷</translation>
    </message>
    <message>
        <source>Print &amp;selected ({n})</source>
        <translation>打印所选案卷（{n}）(&amp;S)</translation>
    </message>
    <message>
        <source>Print &amp;all listed ({n})</source>
        <translation>打印全部列出的（{n}）(&amp;A)</translation>
    </message>
    <message>
        <source>Save cover sheets</source>
        <translation>保存分隔页</translation>
    </message>
    <message>
        <source>{n} cover sheet(s) written to {f}</source>
        <translation>已生成 {n} 张分隔页：{f}</translation>
    </message>
</context>
<context>
    <name>CreateBatchDialog</name>
    <message>
        <source>Create a transfer batch</source>
        <translation>创建移交批次</translation>
    </message>
    <message>
        <source>(all categories)</source>
        <translation>（全部类别）</translation>
    </message>
    <message>
        <source>The batch takes every completed, QC-approved dossier of this fonds and year (optionally of one category) that is not in another batch.</source>
        <translation>批次包含本全宗该年度（可限定一个类别）所有已完成、质检通过且不在其他批次中的案卷。</translation>
    </message>
    <message>
        <source>&amp;Year (年度):</source>
        <translation>年度(&amp;Y)：</translation>
    </message>
    <message>
        <source>&amp;Category:</source>
        <translation>类别(&amp;C)：</translation>
    </message>
</context>
<context>
    <name>CustodyWatch</name>
    <message>
        <source>&amp;Back up now…</source>
        <translation>立即备份(&amp;B)…</translation>
    </message>
    <message>
        <source>Check &amp;fixity now</source>
        <translation>立即进行固定性校验(&amp;F)</translation>
    </message>
    <message>
        <source>&amp;Clean up the page store…</source>
        <translation>清理页面存储(&amp;C)…</translation>
    </message>
    <message>
        <source>⚠ The last verified backup is older than {days} days — back up now</source>
        <translation>⚠ 最近一次已校验的备份已超过 {days} 天 — 立即备份</translation>
    </message>
    <message>
        <source>⚠ No backup has been verified yet — back up now</source>
        <translation>⚠ 尚无已校验的备份 — 立即备份</translation>
    </message>
    <message>
        <source>Make a backup to another disk and verify it (R39).</source>
        <translation>备份到另一块磁盘并进行校验（R39）。</translation>
    </message>
    <message>
        <source>Fixity check running in the background…</source>
        <translation>正在后台进行固定性校验…</translation>
    </message>
    <message>
        <source>Fixity check passed: {n} pages re-hashed, no change found.</source>
        <translation>固定性校验通过：已重新计算 {n} 页的校验值，未发现改动。</translation>
    </message>
    <message>
        <source>Looking for page files nothing names…</source>
        <translation>正在查找未被引用的页面文件…</translation>
    </message>
    <message>
        <source>The page store holds nothing unnamed older than {h} hours ({n} objects looked at).</source>
        <translation>页面存储中没有早于 {h} 小时且未被引用的文件（已查看 {n} 个对象）。</translation>
    </message>
    <message>
        <source>{n} page files ({size}) older than {h} hours are named by no dossier, page or package: an intake that was interrupted and not retried left them. Remove them from the page store?</source>
        <translation>有 {n} 个页面文件（{size}）早于 {h} 小时，且没有任何案卷、页面或移交包引用：它们是中断后未重试的接收留下的。要从页面存储中删除吗？</translation>
    </message>
    <message>
        <source>Clean up the page store</source>
        <translation>清理页面存储</translation>
    </message>
    <message>
        <source>Removing page files nothing names…</source>
        <translation>正在删除未被引用的页面文件…</translation>
    </message>
    <message>
        <source>Removed {n} page files ({size}) that nothing named; {k} kept.</source>
        <translation>已删除 {n} 个未被引用的页面文件（{size}）；保留 {k} 个。</translation>
    </message>
    <message>
        <source>Back up to (another disk)</source>
        <translation>备份到（另一块磁盘）</translation>
    </message>
    <message>
        <source>Backing up to {dest}…</source>
        <translation>正在备份到 {dest}…</translation>
    </message>
    <message>
        <source>Backup {gen} made and verified: {files} files ({copied} copied, {linked} unchanged and linked).</source>
        <translation>备份 {gen} 已完成并通过校验：共 {files} 个文件（复制 {copied} 个，未变化而链接 {linked} 个）。</translation>
    </message>
    <message>
        <source>Warnings: {w}</source>
        <translation>警告：{w}</translation>
    </message>
    <message>
        <source>Backup</source>
        <translation>备份</translation>
    </message>
</context>
<context>
    <name>DecisionDialog</name>
    <message>
        <source>Accept the package</source>
        <translation>接收移交包</translation>
    </message>
    <message>
        <source>Accept {p} into the archive. The images are copied into the archive&apos;s store and the dossiers are archived; a receipt signed with the archive room&apos;s key is written.</source>
        <translation>将 {p} 接收入库。图像复制到档案库，案卷归档，并用档案室密钥签署回执。</translation>
    </message>
    <message>
        <source>Reject the package</source>
        <translation>退回移交包</translation>
    </message>
    <message>
        <source>Return {p} to the station with the reasons below (one per line). Nothing is archived; a signed receipt lists the reasons.</source>
        <translation>将 {p} 退回扫描站，原因见下（每行一个）。不会归档任何内容；已签署的回执列出这些原因。</translation>
    </message>
    <message>
        <source>The {n} failed check(s) are added to the reasons automatically.</source>
        <translation>{n} 项未通过的检测会自动加入原因。</translation>
    </message>
    <message>
        <source>One reason per line</source>
        <translation>每行一个原因</translation>
    </message>
    <message>
        <source>&amp;Reasons:</source>
        <translation>原因(&amp;R)：</translation>
    </message>
    <message>
        <source>optional: a folder or drive to carry the receipt to the station</source>
        <translation>可选：用于把回执带回扫描站的文件夹或驱动器</translation>
    </message>
    <message>
        <source>&amp;Browse…</source>
        <translation>浏览(&amp;B)…</translation>
    </message>
    <message>
        <source>Also save the receipt &amp;to:</source>
        <translation>回执另存到(&amp;T)：</translation>
    </message>
    <message>
        <source>Folder for a copy of the receipt</source>
        <translation>回执副本文件夹</translation>
    </message>
</context>
<context>
    <name>DevicesTab</name>
    <message>
        <source>Scanner id</source>
        <translation>扫描仪编号</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>类型</translation>
    </message>
    <message>
        <source>Maker</source>
        <translation>厂商</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>型号</translation>
    </message>
    <message>
        <source>Serial</source>
        <translation>序列号</translation>
    </message>
    <message>
        <source>&amp;Look for scanners</source>
        <translation>查找扫描仪(&amp;L)</translation>
    </message>
</context>
<context>
    <name>DossierPanel</name>
    <message>
        <source>Dossier</source>
        <translation>案卷</translation>
    </message>
    <message>
        <source>Type or scan the 档号, then Enter</source>
        <translation>输入或扫描档号后按回车</translation>
    </message>
    <message>
        <source>Dossier number</source>
        <translation>档号</translation>
    </message>
    <message>
        <source>&amp;Open</source>
        <translation>打开(&amp;O)</translation>
    </message>
    <message>
        <source>Open the dossier (Enter)</source>
        <translation>打开案卷（回车）</translation>
    </message>
    <message>
        <source>&amp;Dossier number:</source>
        <translation>档号(&amp;D)：</translation>
    </message>
    <message>
        <source>Title (题名)</source>
        <translation>题名</translation>
    </message>
    <message>
        <source>Year</source>
        <translation>年度</translation>
    </message>
    <message>
        <source>Retention</source>
        <translation>保管期限</translation>
    </message>
    <message>
        <source>Declared pages</source>
        <translation>登记页数</translation>
    </message>
    <message>
        <source>Scanned</source>
        <translation>已扫描</translation>
    </message>
    <message>
        <source>Insured person</source>
        <translation>参保人</translation>
    </message>
    <message>
        <source>ID number</source>
        <translation>身份证号</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>:</source>
        <translation>：</translation>
    </message>
    <message>
        <source>Show</source>
        <translation>显示</translation>
    </message>
    <message>
        <source>Show the full ID number (the view is logged)</source>
        <translation>显示完整身份证号（查看将记入审计）</translation>
    </message>
    <message>
        <source>{new} (corrected, was {old})</source>
        <translation>{new}（已更正，原 {old}）</translation>
    </message>
    <message>
        <source>Corrected by {user} on {when}: {reason}</source>
        <translation>{user} 于 {when} 更正：{reason}</translation>
    </message>
    <message>
        <source>Hide</source>
        <translation>隐藏</translation>
    </message>
</context>
<context>
    <name>DossierStatus</name>
    <message>
        <source>cataloged, not scanned</source>
        <translation>已编目，未扫描</translation>
    </message>
    <message>
        <source>scanning started, not completed</source>
        <translation>已开始扫描，未完成</translation>
    </message>
    <message>
        <source>completed, waiting for QC</source>
        <translation>已完成，待质检</translation>
    </message>
    <message>
        <source>returned by QC</source>
        <translation>质检退回</translation>
    </message>
    <message>
        <source>approved by QC</source>
        <translation>质检通过</translation>
    </message>
    <message>
        <source>in a transfer batch</source>
        <translation>已组批</translation>
    </message>
    <message>
        <source>sent, waiting for receipt</source>
        <translation>已移交，待回执</translation>
    </message>
    <message>
        <source>transferred</source>
        <translation>已移交</translation>
    </message>
    <message>
        <source>archived</source>
        <translation>已归档</translation>
    </message>
    <message>
        <source>destroyed</source>
        <translation>已销毁</translation>
    </message>
</context>
<context>
    <name>ErrorPresenter</name>
    <message>
        <source>Scanner problem</source>
        <translation>扫描仪故障</translation>
    </message>
    <message>
        <source>Not allowed</source>
        <translation>操作不允许</translation>
    </message>
    <message>
        <source>Please check the input</source>
        <translation>请检查输入</translation>
    </message>
    <message>
        <source>Not found</source>
        <translation>未找到</translation>
    </message>
    <message>
        <source>Check failed</source>
        <translation>检查未通过</translation>
    </message>
    <message>
        <source>Cannot save</source>
        <translation>无法保存</translation>
    </message>
    <message>
        <source>Station folder problem</source>
        <translation>工作目录问题</translation>
    </message>
    <message>
        <source>A program is missing or failed</source>
        <translation>程序缺失或运行失败</translation>
    </message>
    <message>
        <source>Problem</source>
        <translation>问题</translation>
    </message>
    <message>
        <source>An unexpected error stopped this action ({error}).</source>
        <translation>此操作因意外错误而停止（{error}）。</translation>
    </message>
    <message>
        <source>The details could not be written to a log file.</source>
        <translation>详细信息未能写入日志文件。</translation>
    </message>
    <message>
        <source>The details are in {path}; send that file to your support contact. Everything saved before is kept.</source>
        <translation>详细信息已写入 {path}，请将该文件发给技术支持。此前保存的内容均完好。</translation>
    </message>
    <message>
        <source>Program error</source>
        <translation>程序错误</translation>
    </message>
</context>
<context>
    <name>ExplanationDialog</name>
    <message>
        <source>Pages do not match the catalog</source>
        <translation>页面与目录不符</translation>
    </message>
    <message>
        <source>The dossier cannot be completed yet:</source>
        <translation>案卷暂不能完成：</translation>
    </message>
    <message>
        <source>Why are {n} page(s) missing?</source>
        <translation>缺少 {n} 页的原因：</translation>
    </message>
    <message>
        <source>Why are there {n} more page(s)?</source>
        <translation>多出 {n} 页的原因：</translation>
    </message>
    <message>
        <source>Page {seq} ({flags}) is kept because:</source>
        <translation>保留第 {seq} 页（{flags}）的原因：</translation>
    </message>
    <message>
        <source>Or close this window and fix the pages (rescan, delete, &quot;not scanned&quot; note).</source>
        <translation>也可以关闭此窗口先处理页面（重扫、删除、“未扫描”说明）。</translation>
    </message>
    <message>
        <source>If the catalog&apos;s page count is wrong:</source>
        <translation>如果目录登记的页数有误：</translation>
    </message>
    <message>
        <source>Correct page count…</source>
        <translation>更正页数…</translation>
    </message>
    <message>
        <source>Complete with these explanations</source>
        <translation>按以上说明完成</translation>
    </message>
    <message>
        <source>Write an explanation for each difference, or cancel and fix the pages.</source>
        <translation>请为每一处差异填写说明，或取消后修改页面。</translation>
    </message>
</context>
<context>
    <name>ExportActions</name>
    <message>
        <source>&amp;Export…</source>
        <translation>导出(&amp;E)…</translation>
    </message>
    <message>
        <source>Export the &amp;catalog (数据挂接)…</source>
        <translation>导出目录（数据挂接）(&amp;C)…</translation>
    </message>
    <message>
        <source>Export the open or selected dossiers as PDF, OFD or EEP</source>
        <translation>将打开或选中的案卷导出为 PDF、OFD 或 EEP</translation>
    </message>
    <message>
        <source>Export the catalog and its images for an archive system</source>
        <translation>为档案管理系统导出目录及其图像</translation>
    </message>
    <message>
        <source>Your role may not export (ask an administrator).</source>
        <translation>您的角色无权导出（请联系管理员）。</translation>
    </message>
    <message>
        <source>Exported {n} file(s) to {d}: {f}</source>
        <translation>已导出 {n} 个文件到 {d}：{f}</translation>
    </message>
    <message>
        <source>Exporting {n} dossier(s)…</source>
        <translation>正在导出 {n} 个案卷…</translation>
    </message>
    <message>
        <source>Catalog of {r} dossier(s) written to {f}; {i} image(s) in {d}.</source>
        <translation>已将 {r} 个案卷的目录写入 {f}；{i} 个图像在 {d}。</translation>
    </message>
    <message>
        <source>Exporting the catalog to {f}…</source>
        <translation>正在导出目录到 {f}…</translation>
    </message>
</context>
<context>
    <name>ExportDialog</name>
    <message>
        <source>Export dossiers</source>
        <translation>导出案卷</translation>
    </message>
    <message>
        <source>one or more 档号, separated by spaces</source>
        <translation>一个或多个档号，以空格分隔</translation>
    </message>
    <message>
        <source>Double-layer PDF (image + OCR text)</source>
        <translation>双层 PDF（图像 + OCR 文本）</translation>
    </message>
    <message>
        <source>OFD (GB/T 33190)</source>
        <translation>OFD（GB/T 33190）</translation>
    </message>
    <message>
        <source>EEP package (DA/T 48, signed)</source>
        <translation>EEP 封装包（DA/T 48，已签名）</translation>
    </message>
    <message>
        <source>PDF/&amp;A-2b (for long-term keeping)</source>
        <translation>PDF/A-2b（长期保存）(&amp;A)</translation>
    </message>
    <message>
        <source>optional; your name and the time are added</source>
        <translation>可选；将自动加上您的姓名和时间</translation>
    </message>
    <message>
        <source>One file per dossier, named by its 档号, in the folder you choose. The masters are not changed; an existing file is never overwritten.</source>
        <translation>每个案卷一个文件，以档号命名，存入所选目录。原始图像不变；已有文件不会被覆盖。</translation>
    </message>
    <message>
        <source>&amp;Dossiers:</source>
        <translation>案卷(&amp;D)：</translation>
    </message>
    <message>
        <source>&amp;Format:</source>
        <translation>格式(&amp;F)：</translation>
    </message>
    <message>
        <source>&amp;Watermark:</source>
        <translation>水印(&amp;W)：</translation>
    </message>
    <message>
        <source>Signing &amp;key:</source>
        <translation>签名密钥(&amp;K)：</translation>
    </message>
    <message>
        <source>&amp;Passphrase:</source>
        <translation>口令(&amp;P)：</translation>
    </message>
    <message>
        <source>F&amp;older:</source>
        <translation>目录(&amp;O)：</translation>
    </message>
    <message>
        <source>Choose the export folder</source>
        <translation>选择导出目录</translation>
    </message>
    <message>
        <source>&amp;Browse…</source>
        <translation>浏览(&amp;B)…</translation>
    </message>
</context>
<context>
    <name>FirstStart</name>
    <message>
        <source>Demo station: users demo-clerk (scanning), demo-qc (QC) and demo-admin, password {password}.</source>
        <translation>演示工作站：用户 demo-clerk（扫描）、demo-qc（质检）和 demo-admin（管理），密码均为 {password}。</translation>
    </message>
</context>
<context>
    <name>FirstStartDialog</name>
    <message>
        <source>ScanStation — first start</source>
        <translation>ScanStation — 首次启动</translation>
    </message>
    <message>
        <source>There is no station in {path} yet. Set one up, or open the demo station to try ScanStation with a sample catalog and the demo scanner.</source>
        <translation>{path} 中还没有扫描站。请设置一个新工作站，或打开演示工作站，用示例目录和演示扫描仪试用 ScanStation。</translation>
    </message>
    <message>
        <source>Set up this station</source>
        <translation>设置本工作站</translation>
    </message>
    <message>
        <source>&amp;Fonds code (全宗号):</source>
        <translation>全宗号(&amp;F)：</translation>
    </message>
    <message>
        <source>&amp;Station id:</source>
        <translation>站点编号(&amp;S)：</translation>
    </message>
    <message>
        <source>&amp;Administrator:</source>
        <translation>管理员(&amp;A)：</translation>
    </message>
    <message>
        <source>Pass&amp;word:</source>
        <translation>密码(&amp;W)：</translation>
    </message>
    <message>
        <source>&amp;Repeat password:</source>
        <translation>确认密码(&amp;R)：</translation>
    </message>
    <message>
        <source>Open the &amp;demo station</source>
        <translation>打开演示工作站(&amp;D)</translation>
    </message>
    <message>
        <source>&amp;Create station</source>
        <translation>创建工作站(&amp;C)</translation>
    </message>
    <message>
        <source>Working…</source>
        <translation>正在处理…</translation>
    </message>
</context>
<context>
    <name>GenerateKeyDialog</name>
    <message>
        <source>Create a signing key</source>
        <translation>创建签名密钥</translation>
    </message>
    <message>
        <source>The station signs its transfer packages with this key. Keep the passphrase safe: it is asked for every time a batch is sealed. Give the archive room the public key (Export).</source>
        <translation>本工作站用此密钥签署移交包。请妥善保管口令：每次封装批次时都需要输入。请把公钥交给档案室（导出）。</translation>
    </message>
    <message>
        <source>Key &amp;name:</source>
        <translation>密钥名称(&amp;N)：</translation>
    </message>
    <message>
        <source>&amp;Passphrase:</source>
        <translation>口令(&amp;P)：</translation>
    </message>
    <message>
        <source>&amp;Repeat passphrase:</source>
        <translation>再次输入口令(&amp;R)：</translation>
    </message>
    <message>
        <source>Create key</source>
        <translation>创建密钥</translation>
    </message>
    <message>
        <source>The two passphrases differ.</source>
        <translation>两次输入的口令不一致。</translation>
    </message>
    <message>
        <source>Use a passphrase of at least 8 characters.</source>
        <translation>口令至少需要 8 个字符。</translation>
    </message>
    <message>
        <source>Creating the key…</source>
        <translation>正在创建密钥…</translation>
    </message>
</context>
<context>
    <name>HitsModel</name>
    <message>
        <source>Dossier number</source>
        <translation>档号</translation>
    </message>
    <message>
        <source>Page</source>
        <translation>页</translation>
    </message>
    <message>
        <source>Found in</source>
        <translation>命中字段</translation>
    </message>
    <message>
        <source>Snippet</source>
        <translation>摘要</translation>
    </message>
    <message>
        <source>page text (OCR)</source>
        <translation>页面文字（OCR）</translation>
    </message>
    <message>
        <source>dossier number</source>
        <translation>档号</translation>
    </message>
    <message>
        <source>title</source>
        <translation>题名</translation>
    </message>
    <message>
        <source>insured person</source>
        <translation>参保人</translation>
    </message>
    <message>
        <source>ID number</source>
        <translation>身份证号</translation>
    </message>
    <message>
        <source>employer</source>
        <translation>单位名称</translation>
    </message>
</context>
<context>
    <name>ImportView</name>
    <message>
        <source>Import the department&apos;s catalog (目录) from an Excel (.xlsx) or CSV file. The whole file is checked first: if any row is wrong, nothing is imported and every problem is listed below.</source>
        <translation>从 Excel（.xlsx）或 CSV 文件导入部门目录。先检查整个文件：只要有一行有误，就不导入任何内容，并在下方列出每个问题。</translation>
    </message>
    <message>
        <source>Catalog file (.xlsx or .csv)</source>
        <translation>目录文件（.xlsx 或 .csv）</translation>
    </message>
    <message>
        <source>&amp;Choose file…</source>
        <translation>选择文件(&amp;C)…</translation>
    </message>
    <message>
        <source>&amp;Import</source>
        <translation>导入(&amp;I)</translation>
    </message>
    <message>
        <source>&amp;File:</source>
        <translation>文件(&amp;F)：</translation>
    </message>
    <message>
        <source>Choose the catalog file</source>
        <translation>选择目录文件</translation>
    </message>
    <message>
        <source>Catalogs (*.xlsx *.csv);;All files (*)</source>
        <translation>目录文件 (*.xlsx *.csv);;所有文件 (*)</translation>
    </message>
    <message>
        <source>Checking {file}…</source>
        <translation>正在检查 {file}…</translation>
    </message>
    <message>
        <source>{n} dossier(s) imported from {file}.</source>
        <translation>已从 {file} 导入 {n} 个案卷。</translation>
    </message>
</context>
<context>
    <name>IntakeView</name>
    <message>
        <source>Check an incoming transfer package (a folder or a .zip): the four-property check (authenticity, integrity, usability, security) and the acceptance sample. Then accept it into the archive or return it with the reasons.</source>
        <translation>检测收到的移交包（文件夹或 .zip）：四性检测（真实性、完整性、可用性、安全性）和接收抽检。然后接收入库，或说明原因退回。</translation>
    </message>
    <message>
        <source>Folder where packages arrive (share or drive)</source>
        <translation>移交包送达的文件夹（共享目录或移动硬盘）</translation>
    </message>
    <message>
        <source>Browse…</source>
        <translation>浏览…</translation>
    </message>
    <message>
        <source>&amp;Incoming:</source>
        <translation>待接收(&amp;I)：</translation>
    </message>
    <message>
        <source>Package folder or .zip file</source>
        <translation>移交包文件夹或 .zip 文件</translation>
    </message>
    <message>
        <source>&amp;Package:</source>
        <translation>移交包(&amp;P)：</translation>
    </message>
    <message>
        <source>&amp;Folder…</source>
        <translation>文件夹(&amp;F)…</translation>
    </message>
    <message>
        <source>&amp;Zip…</source>
        <translation>Zip 文件(&amp;Z)…</translation>
    </message>
    <message>
        <source>&amp;Check</source>
        <translation>检测(&amp;C)</translation>
    </message>
    <message>
        <source>Show &amp;failures only</source>
        <translation>只显示未通过项(&amp;F)</translation>
    </message>
    <message>
        <source>Acceptance sample</source>
        <translation>接收抽检</translation>
    </message>
    <message>
        <source>Dossier number (档号)</source>
        <translation>档号</translation>
    </message>
    <message>
        <source>Automatic review</source>
        <translation>自动检测</translation>
    </message>
    <message>
        <source>Your finding (empty = no problem)</source>
        <translation>检查意见（留空表示无问题）</translation>
    </message>
    <message>
        <source>View pages…</source>
        <translation>查看页面…</translation>
    </message>
    <message>
        <source>Look at the sampled dossier&apos;s pages as the package holds them (Enter or double-click on its 档号)</source>
        <translation>查看抽样案卷在移交包中的页面（在档号上按回车或双击）</translation>
    </message>
    <message>
        <source>&amp;Accept…</source>
        <translation>接收(&amp;A)…</translation>
    </message>
    <message>
        <source>&amp;Reject…</source>
        <translation>退回(&amp;R)…</translation>
    </message>
    <message>
        <source>Run the four-property check (F5)</source>
        <translation>进行四性检测（F5）</translation>
    </message>
    <message>
        <source>Folder where packages arrive</source>
        <translation>移交包送达的文件夹</translation>
    </message>
    <message>
        <source>No packages in {f}.</source>
        <translation>{f} 中没有移交包。</translation>
    </message>
    <message>
        <source>Choose the package folder</source>
        <translation>选择移交包文件夹</translation>
    </message>
    <message>
        <source>Choose the package (.zip)</source>
        <translation>选择移交包（.zip）</translation>
    </message>
    <message>
        <source>Packages (*.zip);;All files (*)</source>
        <translation>移交包 (*.zip);;所有文件 (*)</translation>
    </message>
    <message>
        <source>Checking {p}: every checksum, the signature, every image…</source>
        <translation>正在检测 {p}：每个校验值、签名、每个图像…</translation>
    </message>
    <message>
        <source>pass</source>
        <translation>通过</translation>
    </message>
    <message>
        <source>authenticity {a}, integrity {i}, usability {u}, security {s}</source>
        <translation>真实性 {a}，完整性 {i}，可用性 {u}，安全性 {s}</translation>
    </message>
    <message>
        <source>There is no folder {f}. Type or choose the shared folder where packages arrive.</source>
        <translation>找不到文件夹 {f}。请输入或选择移交包送达的共享文件夹。</translation>
    </message>
    <message>
        <source>{f} is not a folder. Type or choose the shared folder where packages arrive.</source>
        <translation>{f} 不是文件夹。请输入或选择移交包送达的共享文件夹。</translation>
    </message>
    <message>
        <source>This account may not read the folder {f}. Ask the administrator for access.</source>
        <translation>当前账户无权读取文件夹 {f}。请联系管理员开通权限。</translation>
    </message>
    <message>
        <source>Cannot read the folder {f} ({e}). Check the share, then try again.</source>
        <translation>无法读取文件夹 {f}（{e}）。请检查共享目录后重试。</translation>
    </message>
    <message>
        <source>Batch {b}: four-property check PASSED ({s}).</source>
        <translation>批次 {b}：四性检测通过（{s}）。</translation>
    </message>
    <message>
        <source>Batch {b}: four-property check FAILED — {n} problem(s) ({s}). The package cannot be accepted; return it with the reasons.</source>
        <translation>批次 {b}：四性检测未通过 — {n} 个问题（{s}）。移交包不能接收；请说明原因退回。</translation>
    </message>
    <message>
        <source>Report written: {f}</source>
        <translation>报告已写入：{f}</translation>
    </message>
    <message>
        <source>Seed {seed} (recorded; the same seed draws the same sample), {p} % of {n} dossier(s): {k} sampled, pass rate {r} % — {v}.</source>
        <translation>随机种子 {seed}（已记录；相同种子抽取相同样本），按 {p} % 从 {n} 个案卷中抽取 {k} 个，合格率 {r} % — {v}。</translation>
    </message>
    <message>
        <source>passed</source>
        <translation>通过</translation>
    </message>
    <message>
        <source>FAILED</source>
        <translation>未通过</translation>
    </message>
    <message>
        <source>dossier number</source>
        <translation>档号</translation>
    </message>
    <message>
        <source>missing pages</source>
        <translation>缺页</translation>
    </message>
    <message>
        <source>completeness</source>
        <translation>完整性</translation>
    </message>
    <message>
        <source>image quality</source>
        <translation>图像质量</translation>
    </message>
    <message>
        <source>FAIL: {items}</source>
        <translation>不通过：{items}</translation>
    </message>
    <message>
        <source>Reading the pages of {n} from the package…</source>
        <translation>正在从移交包读取 {n} 的页面…</translation>
    </message>
    <message>
        <source>Only a package whose checks and sample passed, with no findings, can be accepted.</source>
        <translation>只有检测和抽检均通过且无问题的移交包才能接收。</translation>
    </message>
    <message>
        <source>Accepting: checking the package again and copying it into the archive…</source>
        <translation>正在接收：重新检测移交包并复制入库…</translation>
    </message>
    <message>
        <source>Rejecting: writing the signed receipt…</source>
        <translation>正在退回：写入已签署的回执…</translation>
    </message>
    <message>
        <source>Accepted: {n} dossier(s) archived. Signed receipt written to {f}</source>
        <translation>已接收：{n} 个案卷已归档。已签署的回执写入 {f}</translation>
    </message>
    <message>
        <source>Rejected: the package was returned ({n} dossier(s) named). Signed receipt written to {f}</source>
        <translation>已退回：移交包已退回（涉及 {n} 个案卷）。已签署的回执写入 {f}</translation>
    </message>
</context>
<context>
    <name>KeyPassphraseDialog</name>
    <message>
        <source>Signing &amp;key:</source>
        <translation>签名密钥(&amp;K)：</translation>
    </message>
    <message>
        <source>&amp;Passphrase:</source>
        <translation>口令(&amp;P)：</translation>
    </message>
    <message>
        <source>This station has no signing key yet.</source>
        <translation>本工作站还没有签名密钥。</translation>
    </message>
    <message>
        <source>&amp;Create the station key…</source>
        <translation>创建工作站密钥(&amp;C)…</translation>
    </message>
    <message>
        <source>This station has no signing key yet. Ask an administrator to create it (Settings → Signing keys).</source>
        <translation>本工作站还没有签名密钥。请管理员创建（设置 → 签名密钥）。</translation>
    </message>
    <message>
        <source>Key {name} created. Give its public key to the archive room (Settings → Signing keys → Export).</source>
        <translation>已创建密钥 {name}。请把其公钥交给档案室（设置 → 签名密钥 → 导出）。</translation>
    </message>
</context>
<context>
    <name>KeysTab</name>
    <message>
        <source>Key</source>
        <translation>密钥</translation>
    </message>
    <message>
        <source>Algorithm</source>
        <translation>算法</translation>
    </message>
    <message>
        <source>Created</source>
        <translation>创建时间</translation>
    </message>
    <message>
        <source>Trusted key</source>
        <translation>信任的公钥</translation>
    </message>
    <message>
        <source>Added</source>
        <translation>添加时间</translation>
    </message>
    <message>
        <source>&amp;Create key…</source>
        <translation>创建密钥(&amp;C)…</translation>
    </message>
    <message>
        <source>E&amp;xport public key…</source>
        <translation>导出公钥(&amp;X)…</translation>
    </message>
    <message>
        <source>Trust a publ&amp;ic key…</source>
        <translation>信任公钥(&amp;I)…</translation>
    </message>
    <message>
        <source>Only an administrator manages keys.</source>
        <translation>只有管理员可以管理密钥。</translation>
    </message>
    <message>
        <source>This station&apos;s signing keys:</source>
        <translation>本工作站的签名密钥：</translation>
    </message>
    <message>
        <source>Trusted keys of the archive room:</source>
        <translation>信任的档案室公钥：</translation>
    </message>
    <message>
        <source>Fingerprint: {f}</source>
        <translation>指纹：{f}</translation>
    </message>
    <message>
        <source>Key {name} created. Export its public key for the archive room.</source>
        <translation>已创建密钥 {name}。请导出公钥交给档案室。</translation>
    </message>
    <message>
        <source>Export the public key</source>
        <translation>导出公钥</translation>
    </message>
    <message>
        <source>Public keys (*.pem)</source>
        <translation>公钥 (*.pem)</translation>
    </message>
    <message>
        <source>Public key {name} written to {file}.</source>
        <translation>公钥 {name} 已保存到 {file}。</translation>
    </message>
    <message>
        <source>Key {name} is trusted now.</source>
        <translation>已信任公钥 {name}。</translation>
    </message>
</context>
<context>
    <name>LoanView</name>
    <message>
        <source>Loans (借阅). During an approved loan the borrower exports a double-layer PDF copy of the dossier, every page watermarked with the borrower&apos;s name, the time and the loan number.</source>
        <translation>借阅。在已批准的借阅期限内，借阅人可导出案卷的双层 PDF 副本，每页带有借阅人姓名、时间和借阅单号水印。</translation>
    </message>
    <message>
        <source>E&amp;xport loan copy (PDF)…</source>
        <translation>导出借阅副本（PDF）(&amp;X)…</translation>
    </message>
    <message>
        <source>&amp;Refresh</source>
        <translation>刷新(&amp;R)</translation>
    </message>
    <message>
        <source>Export the watermarked PDF copy of your approved loan</source>
        <translation>导出您已批准借阅的带水印 PDF 副本</translation>
    </message>
    <message>
        <source>Only the borrower may export the copy of an approved loan.</source>
        <translation>只有借阅人可以导出已批准借阅的副本。</translation>
    </message>
    <message>
        <source>No loans.</source>
        <translation>没有借阅记录。</translation>
    </message>
    <message>
        <source>Choose the folder for the loan copy</source>
        <translation>选择借阅副本的存放目录</translation>
    </message>
    <message>
        <source>Exporting the copy of loan {id}…</source>
        <translation>正在导出借阅单 {id} 的副本…</translation>
    </message>
    <message>
        <source>Loan {id}: {f} written to {d} (watermarked, {p} page(s)).</source>
        <translation>借阅单 {id}：{f} 已写入 {d}（带水印，{p} 页）。</translation>
    </message>
</context>
<context>
    <name>LoansModel</name>
    <message>
        <source>Loan</source>
        <translation>借阅单</translation>
    </message>
    <message>
        <source>Dossier number</source>
        <translation>档号</translation>
    </message>
    <message>
        <source>Borrower</source>
        <translation>借阅人</translation>
    </message>
    <message>
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Reason</source>
        <translation>借阅理由</translation>
    </message>
    <message>
        <source>Due</source>
        <translation>到期</translation>
    </message>
    <message>
        <source>requested</source>
        <translation>已申请</translation>
    </message>
    <message>
        <source>approved</source>
        <translation>已批准</translation>
    </message>
    <message>
        <source>rejected</source>
        <translation>已驳回</translation>
    </message>
    <message>
        <source>returned</source>
        <translation>已归还</translation>
    </message>
    <message>
        <source>expired</source>
        <translation>已过期</translation>
    </message>
</context>
<context>
    <name>LoginDialog</name>
    <message>
        <source>ScanStation — sign in</source>
        <translation>ScanStation — 登录</translation>
    </message>
    <message>
        <source>ScanStation — locked</source>
        <translation>ScanStation — 已锁定</translation>
    </message>
    <message>
        <source>The station was locked after a period without use. Enter the password of {user} to continue.</source>
        <translation>工作站因一段时间无操作已锁定。请输入 {user} 的密码继续。</translation>
    </message>
    <message>
        <source>Station {station} · fonds {fonds}</source>
        <translation>站点 {station} · 全宗号 {fonds}</translation>
    </message>
    <message>
        <source>&amp;User:</source>
        <translation>用户名(&amp;U)：</translation>
    </message>
    <message>
        <source>&amp;Password:</source>
        <translation>密码(&amp;P)：</translation>
    </message>
    <message>
        <source>leave empty to keep personal data locked</source>
        <translation>留空则个人信息保持锁定</translation>
    </message>
    <message>
        <source>Personal-data pass&amp;phrase:</source>
        <translation>个人信息保护口令(&amp;H)：</translation>
    </message>
    <message>
        <source>Sign in</source>
        <translation>登录</translation>
    </message>
    <message>
        <source>Unlock</source>
        <translation>解锁</translation>
    </message>
    <message>
        <source>Sign in as another user</source>
        <translation>以其他用户登录</translation>
    </message>
    <message>
        <source>Enter your user name.</source>
        <translation>请输入用户名。</translation>
    </message>
    <message>
        <source>Checking…</source>
        <translation>正在验证…</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>Stack scan</source>
        <translation>批量扫描</translation>
    </message>
    <message>
        <source>Paper at desk</source>
        <translation>纸质档案</translation>
    </message>
    <message>
        <source>ScanStation — social-security archive scanning station</source>
        <translation>ScanStation — 社保档案扫描工作站</translation>
    </message>
    <message>
        <source>Locked</source>
        <translation>已锁定</translation>
    </message>
    <message>
        <source>Views</source>
        <translation>视图</translation>
    </message>
    <message>
        <source>&amp;Station</source>
        <translation>工作站(&amp;S)</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>视图(&amp;V)</translation>
    </message>
    <message>
        <source>&amp;Export</source>
        <translation>导出(&amp;E)</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>帮助(&amp;H)</translation>
    </message>
    <message>
        <source>Scan desk</source>
        <translation>扫描台</translation>
    </message>
    <message>
        <source>Dossiers</source>
        <translation>案卷</translation>
    </message>
    <message>
        <source>QC desk</source>
        <translation>质检台</translation>
    </message>
    <message>
        <source>Search</source>
        <translation>检索</translation>
    </message>
    <message>
        <source>Catalog import</source>
        <translation>目录导入</translation>
    </message>
    <message>
        <source>Transfer batches</source>
        <translation>移交批次</translation>
    </message>
    <message>
        <source>Receive batches</source>
        <translation>接收批次</translation>
    </message>
    <message>
        <source>Loans</source>
        <translation>借阅</translation>
    </message>
    <message>
        <source>Settings</source>
        <translation>设置</translation>
    </message>
    <message>
        <source>&amp;Lock station</source>
        <translation>锁定工作站(&amp;L)</translation>
    </message>
    <message>
        <source>Sign &amp;out / switch user</source>
        <translation>退出登录 / 切换用户(&amp;O)</translation>
    </message>
    <message>
        <source>Lan&amp;guage</source>
        <translation>语言(&amp;G)</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>退出(&amp;Q)</translation>
    </message>
    <message>
        <source>&amp;Keyboard shortcuts</source>
        <translation>快捷键(&amp;K)</translation>
    </message>
    <message>
        <source>&amp;About ScanStation</source>
        <translation>关于 ScanStation(&amp;A)</translation>
    </message>
    <message>
        <source>User: {user} ({roles})</source>
        <translation>用户：{user}（{roles}）</translation>
    </message>
    <message>
        <source>Station {station} · fonds {fonds}</source>
        <translation>站点 {station} · 全宗号 {fonds}</translation>
    </message>
    <message>
        <source>Interrupted scans recovered</source>
        <translation>已恢复中断的扫描</translation>
    </message>
    <message>
        <source>{n} page(s) from {s} interrupted scan(s) were saved to their dossiers ({numbers}). Check them before completing.</source>
        <translation>{s} 次中断扫描中的 {n} 页已保存到对应案卷（{numbers}）。完成案卷前请检查这些页面。</translation>
    </message>
    <message>
        <source>A scan is running: stop it or let it finish before signing out.</source>
        <translation>正在扫描：请先停止或等待扫描结束，再退出登录。</translation>
    </message>
    <message>
        <source>The language changes the next time ScanStation starts.</source>
        <translation>界面语言将在下次启动 ScanStation 时更改。</translation>
    </message>
    <message>
        <source>About ScanStation</source>
        <translation>关于 ScanStation</translation>
    </message>
    <message>
        <source>ScanStation {version}: scanning station for social-security archives. Station {station}, home {home}.</source>
        <translation>ScanStation {version}：社保档案扫描工作站。站点 {station}，工作目录 {home}。</translation>
    </message>
    <message>
        <source>Scanning</source>
        <translation>正在扫描</translation>
    </message>
    <message>
        <source>A scan is running. Stop it and close? Every page received so far is kept.</source>
        <translation>正在扫描。要停止扫描并关闭吗？已收到的页面全部保留。</translation>
    </message>
</context>
<context>
    <name>NotScannedDialog</name>
    <message>
        <source>Page not scanned</source>
        <translation>未扫描页</translation>
    </message>
    <message>
        <source>e.g. blank back side, duplicate copy of page 3</source>
        <translation>例如：空白背面、第 3 页的重复复印件</translation>
    </message>
    <message>
        <source>Page of the original:</source>
        <translation>原件页号：</translation>
    </message>
    <message>
        <source>Reason:</source>
        <translation>原因：</translation>
    </message>
</context>
<context>
    <name>PageCountDialog</name>
    <message>
        <source>Correct the page count</source>
        <translation>更正页数</translation>
    </message>
    <message>
        <source>The catalog&apos;s page count (页数) of {n} is {d}. A correction is logged with the old value, your name and the reason.</source>
        <translation>案卷 {n} 的目录登记页数为 {d}。更正将连同原值、您的姓名和理由一并记录。</translation>
    </message>
    <message>
        <source>e.g. the register counted the cover; the file has 9 pages</source>
        <translation>例如：登记时把封面算作一页，原件实有 9 页</translation>
    </message>
    <message>
        <source>&amp;New page count:</source>
        <translation>新页数(&amp;N)：</translation>
    </message>
    <message>
        <source>Rea&amp;son:</source>
        <translation>理由(&amp;S)：</translation>
    </message>
    <message>
        <source>Correct</source>
        <translation>更正</translation>
    </message>
    <message>
        <source>Write the reason for the correction; it is kept with the record.</source>
        <translation>请填写更正理由；理由将与记录一并保存。</translation>
    </message>
    <message>
        <source>The page count is already {d}; enter the correct count.</source>
        <translation>页数已是 {d}；请输入正确的页数。</translation>
    </message>
</context>
<context>
    <name>PageFlags</name>
    <message>
        <source>skewed</source>
        <translation>歪斜</translation>
    </message>
    <message>
        <source>blank</source>
        <translation>空白</translation>
    </message>
    <message>
        <source>duplicate</source>
        <translation>重复</translation>
    </message>
    <message>
        <source>too dark</source>
        <translation>过暗</translation>
    </message>
    <message>
        <source>too light</source>
        <translation>过亮</translation>
    </message>
    <message>
        <source>low dpi</source>
        <translation>分辨率低</translation>
    </message>
</context>
<context>
    <name>PageListModel</name>
    <message>
        <source>Not scanned: p. {n}</source>
        <translation>未扫描：第 {n} 页</translation>
    </message>
    <message>
        <source>Page {n} of the original is not scanned: {note}</source>
        <translation>原件第 {n} 页未扫描：{note}</translation>
    </message>
    <message>
        <source>Page {seq}: {file}</source>
        <translation>第 {seq} 页：{file}</translation>
    </message>
    <message>
        <source>Demo page: invented by the demo scanner</source>
        <translation>演示页：由演示扫描仪生成</translation>
    </message>
    <message>
        <source>Flags: {flags}</source>
        <translation>标记：{flags}</translation>
    </message>
</context>
<context>
    <name>PageStrip</name>
    <message>
        <source>Page thumbnails</source>
        <translation>页面缩略图</translation>
    </message>
</context>
<context>
    <name>PageViewer</name>
    <message>
        <source>Page image</source>
        <translation>页面图像</translation>
    </message>
</context>
<context>
    <name>PaperDeskView</name>
    <message>
        <source>档号</source>
        <translation>档号</translation>
    </message>
    <message>
        <source>Title</source>
        <translation>题名</translation>
    </message>
    <message>
        <source>Box</source>
        <translation>盒号</translation>
    </message>
    <message>
        <source>Binding</source>
        <translation>装订状态</translation>
    </message>
    <message>
        <source>Due</source>
        <translation>应归还</translation>
    </message>
    <message>
        <source>Clerk</source>
        <translation>经办人</translation>
    </message>
    <message>
        <source>box number, or 档号 separated by spaces</source>
        <translation>盒号，或以空格分隔的档号</translation>
    </message>
    <message>
        <source>store-room person</source>
        <translation>库房人员</translation>
    </message>
    <message>
        <source>Check out (调档)</source>
        <translation>调档</translation>
    </message>
    <message>
        <source>Unbound</source>
        <translation>已拆装订</translation>
    </message>
    <message>
        <source>Rebound</source>
        <translation>已还原装订</translation>
    </message>
    <message>
        <source>Check in</source>
        <translation>归还库房</translation>
    </message>
    <message>
        <source>Hand-over list…</source>
        <translation>交接清单…</translation>
    </message>
    <message>
        <source>Save hand-over list</source>
        <translation>保存交接清单</translation>
    </message>
    <message>
        <source>{n} dossier(s) at the desk, {o} overdue</source>
        <translation>扫描台现有 {n} 卷，逾期 {o} 卷</translation>
    </message>
</context>
<context>
    <name>ProblemsModel</name>
    <message>
        <source>Row</source>
        <translation>行</translation>
    </message>
    <message>
        <source>Column</source>
        <translation>列</translation>
    </message>
    <message>
        <source>Problem</source>
        <translation>问题</translation>
    </message>
</context>
<context>
    <name>ProfilesTab</name>
    <message>
        <source>Profile</source>
        <translation>扫描方案</translation>
    </message>
    <message>
        <source>Scanner</source>
        <translation>扫描仪</translation>
    </message>
    <message>
        <source>Source</source>
        <translation>进纸方式</translation>
    </message>
    <message>
        <source>Colour</source>
        <translation>色彩</translation>
    </message>
    <message>
        <source>dpi</source>
        <translation>dpi</translation>
    </message>
    <message>
        <source>Format</source>
        <translation>格式</translation>
    </message>
    <message>
        <source>Deskew</source>
        <translation>纠偏</translation>
    </message>
    <message>
        <source>Crop</source>
        <translation>裁边</translation>
    </message>
    <message>
        <source>Locked</source>
        <translation>已锁定</translation>
    </message>
    <message>
        <source>Scan profiles (change them with: scanstation profile ...).</source>
        <translation>扫描方案（用命令 scanstation profile ... 修改）。</translation>
    </message>
    <message>
        <source>yes</source>
        <translation>是</translation>
    </message>
</context>
<context>
    <name>QcDesk</name>
    <message>
        <source>Refresh</source>
        <translation>刷新</translation>
    </message>
    <message>
        <source>or type / scan a 档号 and Enter</source>
        <translation>或输入/扫描档号后按回车</translation>
    </message>
    <message>
        <source>&amp;Waiting for QC:</source>
        <translation>待质检(&amp;W)：</translation>
    </message>
    <message>
        <source>Only dossiers with &amp;low OCR confidence pages</source>
        <translation>只显示含低识别置信度页面的案卷(&amp;L)</translation>
    </message>
    <message>
        <source>Choose a dossier from the queue.</source>
        <translation>请从待质检列表中选择案卷。</translation>
    </message>
    <message>
        <source>QC</source>
        <translation>质检</translation>
    </message>
    <message>
        <source>Queue</source>
        <translation>待质检列表</translation>
    </message>
    <message>
        <source>Dossier number</source>
        <translation>档号</translation>
    </message>
    <message>
        <source>Next page</source>
        <translation>下一页</translation>
    </message>
    <message>
        <source>Previous page</source>
        <translation>上一页</translation>
    </message>
    <message>
        <source>Pass page</source>
        <translation>本页合格</translation>
    </message>
    <message>
        <source>Reject page</source>
        <translation>本页不合格</translation>
    </message>
    <message>
        <source>Request rescan</source>
        <translation>要求重扫</translation>
    </message>
    <message>
        <source>Approve dossier</source>
        <translation>案卷质检通过</translation>
    </message>
    <message>
        <source>Return dossier</source>
        <translation>退回案卷</translation>
    </message>
    <message>
        <source>Zoom in</source>
        <translation>放大</translation>
    </message>
    <message>
        <source>Zoom out</source>
        <translation>缩小</translation>
    </message>
    <message>
        <source>Fit page</source>
        <translation>适合窗口</translation>
    </message>
    <message>
        <source>{number} · {title} · {pages} page(s), declared {declared}</source>
        <translation>{number} · {title} · 共 {pages} 页，登记 {declared} 页</translation>
    </message>
    <message>
        <source>Fewer pages than declared: {text}</source>
        <translation>比登记页数少：{text}</translation>
    </message>
    <message>
        <source>More pages than declared: {text}</source>
        <translation>比登记页数多：{text}</translation>
    </message>
    <message>
        <source>Page {seq}: {text}</source>
        <translation>第 {seq} 页：{text}</translation>
    </message>
    <message>
        <source>The clerk ({user}) explained:</source>
        <translation>扫描员（{user}）的说明：</translation>
    </message>
    <message>
        <source>Reject page {seq}</source>
        <translation>第 {seq} 页不合格</translation>
    </message>
    <message>
        <source>Request a rescan of page {seq}</source>
        <translation>要求重扫第 {seq} 页</translation>
    </message>
    <message>
        <source>Pages not looked at</source>
        <translation>有页面未查看</translation>
    </message>
    <message>
        <source>{n} page(s) of {number} were not looked at: {pages}. Approve anyway?</source>
        <translation>案卷 {number} 有 {n} 页未查看：第 {pages} 页。仍然通过？</translation>
    </message>
    <message>
        <source>Show the first one</source>
        <translation>查看第一张未看页</translation>
    </message>
    <message>
        <source>Approve anyway</source>
        <translation>仍然通过</translation>
    </message>
    <message>
        <source>Return dossier {n} to the clerk</source>
        <translation>将档号 {n} 退回扫描员</translation>
    </message>
    <message>
        <source>Choose a dossier from the queue first.</source>
        <translation>请先从待质检列表中选择案卷。</translation>
    </message>
    <message>
        <source>The dossier is {state}; only completed dossiers are reviewed.</source>
        <translation>案卷状态为“{state}”；只有已完成的案卷才能质检。</translation>
    </message>
    <message>
        <source>Select a page first.</source>
        <translation>请先选择一页。</translation>
    </message>
    <message>
        <source>Dossier {n} is approved.</source>
        <translation>档号 {n} 质检通过。</translation>
    </message>
    <message>
        <source>Dossier {n} goes back to the clerk for rescanning.</source>
        <translation>档号 {n} 已退回扫描员重扫。</translation>
    </message>
    <message>
        <source>{n} dossier(s) waiting.</source>
        <translation>{n} 个案卷待质检。</translation>
    </message>
    <message>
        <source>Passed {p}, rejected {r}, rescan requested {s} of {n} page(s).</source>
        <translation>共 {n} 页：合格 {p}，不合格 {r}，要求重扫 {s}。</translation>
    </message>
</context>
<context>
    <name>QueueModel</name>
    <message>
        <source>Dossier number</source>
        <translation>档号</translation>
    </message>
    <message>
        <source>Title</source>
        <translation>题名</translation>
    </message>
    <message>
        <source>Pages</source>
        <translation>页数</translation>
    </message>
    <message>
        <source>Scanned by</source>
        <translation>扫描人</translation>
    </message>
    <message>
        <source>Completed</source>
        <translation>完成时间</translation>
    </message>
    <message>
        <source>Low OCR confidence</source>
        <translation>识别置信度低</translation>
    </message>
    <message>
        <source>p.{n}</source>
        <translation>第{n}页</translation>
    </message>
</context>
<context>
    <name>ReasonDialog</name>
    <message>
        <source>choose a reason</source>
        <translation>请选择原因</translation>
    </message>
    <message>
        <source>&amp;Reason:</source>
        <translation>原因(&amp;R)：</translation>
    </message>
    <message>
        <source>&amp;Note:</source>
        <translation>备注(&amp;N)：</translation>
    </message>
    <message>
        <source>Choose a reason.</source>
        <translation>请选择原因。</translation>
    </message>
</context>
<context>
    <name>ReportModel</name>
    <message>
        <source>Property</source>
        <translation>性质</translation>
    </message>
    <message>
        <source>Check</source>
        <translation>检测</translation>
    </message>
    <message>
        <source>Object</source>
        <translation>对象</translation>
    </message>
    <message>
        <source>Result</source>
        <translation>结果</translation>
    </message>
    <message>
        <source>Detail</source>
        <translation>详情</translation>
    </message>
    <message>
        <source>pass</source>
        <translation>通过</translation>
    </message>
    <message>
        <source>FAIL</source>
        <translation>不通过</translation>
    </message>
    <message>
        <source>not available</source>
        <translation>不可用</translation>
    </message>
    <message>
        <source>not checked</source>
        <translation>未检测</translation>
    </message>
    <message>
        <source>explained</source>
        <translation>已说明</translation>
    </message>
    <message>
        <source>{n} file(s)</source>
        <translation>{n} 个文件</translation>
    </message>
    <message>
        <source>{n} dossier(s)</source>
        <translation>{n} 个案卷</translation>
    </message>
    <message>
        <source>{n} image(s)</source>
        <translation>{n} 幅图像</translation>
    </message>
    <message>
        <source>, </source>
        <translation>，</translation>
    </message>
    <message>
        <source>Key “{name}”</source>
        <translation>密钥“{name}”</translation>
    </message>
    <message>
        <source>Key not in the trust list</source>
        <translation>未列入信任列表的密钥</translation>
    </message>
    <message>
        <source>Signed with {alg} by the key “{name}” in the trust list.</source>
        <translation>由信任列表中的密钥“{name}”以 {alg} 签名。</translation>
    </message>
    <message>
        <source>{text}
Key fingerprint: {fp}</source>
        <translation>{text}
密钥指纹：{fp}</translation>
    </message>
</context>
<context>
    <name>RetentionTab</name>
    <message>
        <source>Business category</source>
        <translation>业务类别</translation>
    </message>
    <message>
        <source>Retention code</source>
        <translation>保管期限代码</translation>
    </message>
    <message>
        <source>Other names (comma separated)</source>
        <translation>别名（逗号分隔）</translation>
    </message>
    <message>
        <source>Verified</source>
        <translation>已核实</translation>
    </message>
    <message>
        <source>Note</source>
        <translation>说明</translation>
    </message>
    <message>
        <source>&amp;Add row</source>
        <translation>添加行(&amp;A)</translation>
    </message>
    <message>
        <source>Remove ro&amp;w</source>
        <translation>删除行(&amp;W)</translation>
    </message>
    <message>
        <source>Save retention tab&amp;le</source>
        <translation>保存保管期限表(&amp;L)</translation>
    </message>
    <message>
        <source>Codes: Y (permanent), D100, D50, D30, D10. Rows not marked verified are proposals to be checked against the agency&apos;s own schedule.</source>
        <translation>代码：Y（永久）、D100、D50、D30、D10。未标记“已核实”的行是建议值，须对照本单位的保管期限表核实。</translation>
    </message>
    <message>
        <source>The retention table is saved.</source>
        <translation>保管期限表已保存。</translation>
    </message>
</context>
<context>
    <name>SamplePagesDialog</name>
    <message>
        <source>Sampled dossier {n}</source>
        <translation>抽样案卷 {n}</translation>
    </message>
    <message>
        <source>{n}: {k} page(s) from the package, each checked against its manifest. Read-only.</source>
        <translation>{n}：移交包中的 {k} 页，每页均已与清单核对。只读。</translation>
    </message>
    <message>
        <source>{n} file(s) in the dossier&apos;s folder are not listed in the package&apos;s manifest and were not opened: {names}</source>
        <translation>案卷文件夹中有 {n} 个文件未列入移交包清单，未打开：{names}</translation>
    </message>
    <message>
        <source>Page {seq}</source>
        <translation>第 {seq} 页</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>关闭</translation>
    </message>
</context>
<context>
    <name>ScanDesk</name>
    <message>
        <source>Dossiers QC returned for rework, with the reasons</source>
        <translation>质检退回需要返工的案卷及原因</translation>
    </message>
    <message>
        <source>Scanner</source>
        <translation>扫描仪</translation>
    </message>
    <message>
        <source>Demo</source>
        <translation>演示</translation>
    </message>
    <message>
        <source>The demo scanner invents its pages: for training only, never for a real dossier.</source>
        <translation>演示扫描仪生成的页面是虚构的：仅用于培训，不得用于真实案卷。</translation>
    </message>
    <message>
        <source>Scan profile</source>
        <translation>扫描方案</translation>
    </message>
    <message>
        <source>Look for scanners</source>
        <translation>查找扫描仪</translation>
    </message>
    <message>
        <source>Look again for connected scanners</source>
        <translation>重新查找已连接的扫描仪</translation>
    </message>
    <message>
        <source>until the feeder is empty</source>
        <translation>直到进纸器取空</translation>
    </message>
    <message>
        <source>Page limit</source>
        <translation>页数上限</translation>
    </message>
    <message>
        <source>Scan (F5)</source>
        <translation>扫描 (F5)</translation>
    </message>
    <message>
        <source>Stop (Esc)</source>
        <translation>停止 (Esc)</translation>
    </message>
    <message>
        <source>&amp;Profile:</source>
        <translation>扫描方案(&amp;P)：</translation>
    </message>
    <message>
        <source>Page &amp;limit:</source>
        <translation>页数上限(&amp;L)：</translation>
    </message>
    <message>
        <source>Continue scanning (F5)</source>
        <translation>继续扫描 (F5)</translation>
    </message>
    <message>
        <source>End this batch</source>
        <translation>结束本批</translation>
    </message>
    <message>
        <source>Pages</source>
        <translation>页数</translation>
    </message>
    <message>
        <source>Dossier number</source>
        <translation>档号</translation>
    </message>
    <message>
        <source>Scan</source>
        <translation>扫描</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <source>Replace by rescan</source>
        <translation>重扫替换</translation>
    </message>
    <message>
        <source>Insert pages after</source>
        <translation>在其后插入</translation>
    </message>
    <message>
        <source>Rotate left</source>
        <translation>向左旋转</translation>
    </message>
    <message>
        <source>Rotate right</source>
        <translation>向右旋转</translation>
    </message>
    <message>
        <source>Move earlier</source>
        <translation>前移</translation>
    </message>
    <message>
        <source>Move later</source>
        <translation>后移</translation>
    </message>
    <message>
        <source>Delete page</source>
        <translation>删除页面</translation>
    </message>
    <message>
        <source>&quot;Not scanned&quot; note</source>
        <translation>“未扫描”说明</translation>
    </message>
    <message>
        <source>Undo</source>
        <translation>撤销</translation>
    </message>
    <message>
        <source>Undo: {step} (Ctrl+Z)</source>
        <translation>撤销：{step}（Ctrl+Z）</translation>
    </message>
    <message>
        <source>Undo (Ctrl+Z)</source>
        <translation>撤销（Ctrl+Z）</translation>
    </message>
    <message>
        <source>Redo</source>
        <translation>重做</translation>
    </message>
    <message>
        <source>Redo: {step} (Ctrl+Shift+Z)</source>
        <translation>重做：{step}（Ctrl+Shift+Z）</translation>
    </message>
    <message>
        <source>Redo (Ctrl+Shift+Z)</source>
        <translation>重做（Ctrl+Shift+Z）</translation>
    </message>
    <message>
        <source>Zoom in</source>
        <translation>放大</translation>
    </message>
    <message>
        <source>Zoom out</source>
        <translation>缩小</translation>
    </message>
    <message>
        <source>Fit page</source>
        <translation>适合窗口</translation>
    </message>
    <message>
        <source>Complete dossier</source>
        <translation>完成案卷</translation>
    </message>
    <message>
        <source>Correct page count…</source>
        <translation>更正页数…</translation>
    </message>
    <message>
        <source>Correct the catalog&apos;s page count (页数); the correction is logged with the reason</source>
        <translation>更正目录登记的页数；更正连同理由一并记录</translation>
    </message>
    <message>
        <source>Print cover sheets…</source>
        <translation>打印分隔页（封面）…</translation>
    </message>
    <message>
        <source>Looking for scanners…</source>
        <translation>正在查找扫描仪…</translation>
    </message>
    <message>
        <source>Demo scanner</source>
        <translation>演示扫描仪</translation>
    </message>
    <message>
        <source>No scanner found</source>
        <translation>未找到扫描仪</translation>
    </message>
    <message>
        <source>No scanner found. Check the cable and the power, then press &quot;Look for scanners&quot;.</source>
        <translation>未找到扫描仪。请检查连接线和电源，然后点“查找扫描仪”。</translation>
    </message>
    <message>
        <source>{n} cover sheet(s) written to {f}</source>
        <translation>已生成 {n} 张分隔页：{f}</translation>
    </message>
    <message>
        <source>page {seq}</source>
        <translation>第 {seq} 页</translation>
    </message>
    <message>
        <source>the dossier</source>
        <translation>整卷</translation>
    </message>
    <message>
        <source>{where}: {reason} ({user})</source>
        <translation>{where}：{reason}（{user}）</translation>
    </message>
    <message>
        <source>Returned by QC. Fix these, then complete again:</source>
        <translation>质检退回。请处理以下问题后重新完成：</translation>
    </message>
    <message>
        <source>Returned by QC.</source>
        <translation>质检退回。</translation>
    </message>
    <message>
        <source>No dossier is open: type or scan the 档号 of the dossier first.</source>
        <translation>没有打开的案卷：请先输入或扫描案卷的档号。</translation>
    </message>
    <message>
        <source>The 档号 field shows {typed}, but the open dossier is {number}. Press Enter to open {typed} first.</source>
        <translation>档号框中是 {typed}，但当前打开的案卷是 {number}。请先按回车打开 {typed}。</translation>
    </message>
    <message>
        <source>No scanner is chosen. Connect a scanner and press &quot;Look for scanners&quot;.</source>
        <translation>未选择扫描仪。请连接扫描仪后点“查找扫描仪”。</translation>
    </message>
    <message>
        <source>Your role may not correct the page count.</source>
        <translation>您的角色不能更正页数。</translation>
    </message>
    <message>
        <source>The dossier is {state}: a clerk corrects the page count only while it is being scanned. Ask QC to return it, or an archivist to correct it.</source>
        <translation>案卷状态为“{state}”：操作员只能在扫描阶段更正页数。请质检退回后更正，或由档案管理员更正。</translation>
    </message>
    <message>
        <source>Page count of {n} corrected from {old} to {new}; the correction is logged.</source>
        <translation>案卷 {n} 的页数已由 {old} 更正为 {new}；更正已记录。</translation>
    </message>
    <message>
        <source>Your role may not scan or change pages.</source>
        <translation>您的角色不能扫描或修改页面。</translation>
    </message>
    <message>
        <source>Open a dossier first: type or scan its 档号 (F2).</source>
        <translation>请先打开案卷：输入或扫描档号（F2）。</translation>
    </message>
    <message>
        <source>The dossier is completed and waits for QC; pages can no longer be changed.</source>
        <translation>案卷已完成，等待质检；页面不能再修改。</translation>
    </message>
    <message>
        <source>The dossier is {state}; its pages can no longer be changed.</source>
        <translation>案卷状态为“{state}”，页面不能再修改。</translation>
    </message>
    <message>
        <source>A scan is running.</source>
        <translation>正在扫描。</translation>
    </message>
    <message>
        <source>No scanner is chosen.</source>
        <translation>未选择扫描仪。</translation>
    </message>
    <message>
        <source>Scan into {number} (F5)</source>
        <translation>扫描到 {number}（F5）</translation>
    </message>
    <message>
        <source>Select a page first.</source>
        <translation>请先选择一页。</translation>
    </message>
    <message>
        <source>{n} pages were scanned; the last one replaces page {seq}, the others stay at the end of the dossier.</source>
        <translation>扫描了 {n} 页；最后一页替换第 {seq} 页，其余页面留在案卷末尾。</translation>
    </message>
    <message>
        <source>&amp;Returned by QC ({n})</source>
        <translation>退回待处理(&amp;R)（{n}）</translation>
    </message>
    <message>
        <source>Scan&amp;ner:</source>
        <translation>扫描仪(&amp;N)：</translation>
    </message>
    <message>
        <source>Replace page {seq}</source>
        <translation>替换第 {seq} 页</translation>
    </message>
    <message>
        <source>Insert {n} page(s) after page {seq}</source>
        <translation>在第 {seq} 页后插入 {n} 页</translation>
    </message>
    <message>
        <source>Rotate page {seq}</source>
        <translation>旋转第 {seq} 页</translation>
    </message>
    <message>
        <source>Move page {a} to {b}</source>
        <translation>将第 {a} 页移到第 {b} 页</translation>
    </message>
    <message>
        <source>Delete page {seq}</source>
        <translation>删除第 {seq} 页</translation>
    </message>
    <message>
        <source>&quot;Not scanned&quot; note for page {n}</source>
        <translation>第 {n} 页的“未扫描”说明</translation>
    </message>
    <message>
        <source>Dossier {n} is complete: {s} page(s). It now waits for QC.</source>
        <translation>档号 {n} 已完成：共 {s} 页，等待质检。</translation>
    </message>
    <message>
        <source>No dossier open. Type or scan a 档号 (F2).</source>
        <translation>未打开案卷。请输入或扫描档号（F2）。</translation>
    </message>
    <message>
        <source>Scanned {n} of {d} declared pages</source>
        <translation>已扫描 {n} 页 / 登记 {d} 页</translation>
    </message>
    <message>
        <source>{rate} images/min</source>
        <translation>{rate} 张/分钟</translation>
    </message>
    <message>
        <source>OCR queue: {n}</source>
        <translation>OCR 队列：{n}</translation>
    </message>
    <message>
        <source>Scanning…</source>
        <translation>正在扫描…</translation>
    </message>
    <message>
        <source>Stopped by a scanner fault</source>
        <translation>扫描仪故障，已暂停</translation>
    </message>
</context>
<context>
    <name>SchemaTab</name>
    <message>
        <source>Field</source>
        <translation>字段</translation>
    </message>
    <message>
        <source>Key</source>
        <translation>键</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>类型</translation>
    </message>
    <message>
        <source>Rule</source>
        <translation>规则</translation>
    </message>
    <message>
        <source>Example</source>
        <translation>示例</translation>
    </message>
    <message>
        <source>Schema {name}: {layout}
Example: {example}</source>
        <translation>档号结构 {name}：{layout}
示例：{example}</translation>
    </message>
</context>
<context>
    <name>SearchView</name>
    <message>
        <source>Words, a name, an ID number or a 档号</source>
        <translation>词语、姓名、身份证号或档号</translation>
    </message>
    <message>
        <source>Search</source>
        <translation>检索</translation>
    </message>
    <message>
        <source>Search &amp;for:</source>
        <translation>检索内容(&amp;F)：</translation>
    </message>
    <message>
        <source>Enter or double-click opens the dossier at the page.</source>
        <translation>按回车或双击打开案卷并定位到该页。</translation>
    </message>
    <message>
        <source>Searching…</source>
        <translation>正在检索…</translation>
    </message>
    <message>
        <source>Nothing found for “{q}”. Try fewer or shorter words, a name, an ID number or a 档号; pages still waiting for OCR are not searchable yet.</source>
        <translation>未找到“{q}”。可减少或缩短检索词，或改用姓名、身份证号或档号；尚在等待识别（OCR）的页面暂时检索不到。</translation>
    </message>
    <message>
        <source>{n} result(s) in {d} dossier(s) for “{q}”. ↓ goes to the results.</source>
        <translation>“{q}”共找到 {n} 条结果，分属 {d} 个案卷。按 ↓ 进入结果列表。</translation>
    </message>
</context>
<context>
    <name>SendDialog</name>
    <message>
        <source>Send the package</source>
        <translation>发送移交包</translation>
    </message>
    <message>
        <source>&amp;Browse…</source>
        <translation>浏览(&amp;B)…</translation>
    </message>
    <message>
        <source>Write one .&amp;zip file</source>
        <translation>写成一个 .zip 文件(&amp;Z)</translation>
    </message>
    <message>
        <source>&amp;Compress the zip (deflate)</source>
        <translation>压缩 zip（deflate）(&amp;C)</translation>
    </message>
    <message>
        <source>The package is copied under a temporary name, every byte is verified on the destination, then it is renamed. An unreachable destination is retried.</source>
        <translation>移交包先以临时名称复制，在目标位置逐字节校验后再改名。目标不可达时会自动重试。</translation>
    </message>
    <message>
        <source>&amp;Destination folder:</source>
        <translation>目标文件夹(&amp;D)：</translation>
    </message>
    <message>
        <source>Choose the destination folder</source>
        <translation>选择目标文件夹</translation>
    </message>
</context>
<context>
    <name>SettingsView</name>
    <message>
        <source>&amp;Users and roles</source>
        <translation>用户与角色(&amp;U)</translation>
    </message>
    <message>
        <source>S&amp;tation</source>
        <translation>工作站(&amp;T)</translation>
    </message>
    <message>
        <source>&amp;Profiles</source>
        <translation>扫描方案(&amp;P)</translation>
    </message>
    <message>
        <source>Sca&amp;nners</source>
        <translation>扫描仪(&amp;N)</translation>
    </message>
    <message>
        <source>Dossier num&amp;ber schema</source>
        <translation>档号结构(&amp;B)</translation>
    </message>
    <message>
        <source>&amp;Retention table</source>
        <translation>保管期限表(&amp;R)</translation>
    </message>
    <message>
        <source>Signing &amp;keys</source>
        <translation>签名密钥(&amp;K)</translation>
    </message>
</context>
<context>
    <name>SheetTableModel</name>
    <message>
        <source>档号</source>
        <translation>档号</translation>
    </message>
    <message>
        <source>Title (题名)</source>
        <translation>题名</translation>
    </message>
    <message>
        <source>Year</source>
        <translation>年度</translation>
    </message>
    <message>
        <source>Declared pages</source>
        <translation>页数</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Box</source>
        <translation>盒号</translation>
    </message>
</context>
<context>
    <name>ShortcutsDialog</name>
    <message>
        <source>Keyboard shortcuts</source>
        <translation>快捷键</translation>
    </message>
    <message>
        <source>Action</source>
        <translation>操作</translation>
    </message>
    <message>
        <source>Keys</source>
        <translation>按键</translation>
    </message>
</context>
<context>
    <name>StackScanView</name>
    <message>
        <source>Stack scanning: put the cover sheet of each dossier in front of its pages</source>
        <translation>批量扫描：将每个案卷的分隔页放在其页面之前</translation>
    </message>
    <message>
        <source>optional: the dossier the first pages continue</source>
        <translation>可选：第一批页面所属（续扫）的案卷</translation>
    </message>
    <message>
        <source>A 档号 barcode on a first page also opens its dossier</source>
        <translation>首页上的档号条码也可开启案卷</translation>
    </message>
    <message>
        <source>Scanner</source>
        <translation>扫描仪</translation>
    </message>
    <message>
        <source>Profile</source>
        <translation>扫描方案</translation>
    </message>
    <message>
        <source>Continue dossier</source>
        <translation>续扫案卷</translation>
    </message>
    <message>
        <source>Start stack scan</source>
        <translation>开始批量扫描</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <source>Held pages (from stopped runs)</source>
        <translation>暂存页面（来自已停止的批量扫描）</translation>
    </message>
    <message>
        <source>Run</source>
        <translation>批次</translation>
    </message>
    <message>
        <source>Position</source>
        <translation>位置</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>类型</translation>
    </message>
    <message>
        <source>Reason</source>
        <translation>原因</translation>
    </message>
    <message>
        <source>档号 for the held pages</source>
        <translation>暂存页面所属档号</translation>
    </message>
    <message>
        <source>File held pages into this dossier</source>
        <translation>将暂存页面存入该案卷</translation>
    </message>
    <message>
        <source>Run held pages again</source>
        <translation>重新处理暂存页面</translation>
    </message>
    <message>
        <source>档号, one per line (or give a year)</source>
        <translation>档号，每行一个（或指定年度）</translation>
    </message>
    <message>
        <source>year</source>
        <translation>年度</translation>
    </message>
    <message>
        <source>Print cover sheets…</source>
        <translation>打印分隔页…</translation>
    </message>
    <message>
        <source>Cover sheet {n}</source>
        <translation>分隔页 {n}</translation>
    </message>
    <message>
        <source>First page labelled {n}</source>
        <translation>首页条码 {n}</translation>
    </message>
    <message>
        <source>  {n}: {p} page(s) stored, {c} of {d}</source>
        <translation>  {n}：已保存 {p} 页，共 {c} 页 / 页数 {d}</translation>
    </message>
    <message>
        <source>  ! {n}: {c} page(s), 页数 says {d} (flagged)</source>
        <translation>  ！{n}：{c} 页，与页数 {d} 不符（已标记）</translation>
    </message>
    <message>
        <source>page</source>
        <translation>页面</translation>
    </message>
    <message>
        <source>cover sheet</source>
        <translation>分隔页</translation>
    </message>
    <message>
        <source>unreadable sheet</source>
        <translation>无法识别的分隔页</translation>
    </message>
    <message>
        <source>{p} held page(s) filed into {n}</source>
        <translation>已将 {p} 页暂存页面存入 {n}</translation>
    </message>
    <message>
        <source>Save cover sheets</source>
        <translation>保存分隔页</translation>
    </message>
    <message>
        <source>Cover sheets written to {f}</source>
        <translation>分隔页已生成：{f}</translation>
    </message>
</context>
<context>
    <name>StationSettingsTab</name>
    <message>
        <source>:</source>
        <translation>：</translation>
    </message>
    <message>
        <source>Save settin&amp;gs</source>
        <translation>保存设置(&amp;G)</translation>
    </message>
    <message>
        <source>{n} setting(s) saved.</source>
        <translation>已保存 {n} 项设置。</translation>
    </message>
</context>
<context>
    <name>Text</name>
    <message>
        <source>{n} file(s)</source>
        <translation>{n} 个文件</translation>
    </message>
</context>
<context>
    <name>ThumbnailDelegate</name>
    <message>
        <source>Demo</source>
        <translation>演示</translation>
    </message>
    <message>
        <source>p. {seq}</source>
        <translation>第 {seq} 页</translation>
    </message>
</context>
<context>
    <name>TrustKeyDialog</name>
    <message>
        <source>Trust a public key</source>
        <translation>信任公钥</translation>
    </message>
    <message>
        <source>Receipts (or packages) signed with this key will be accepted. Check with the other side that the file is theirs.</source>
        <translation>用此公钥签名的回执（或移交包）将被接受。请与对方核实该文件确实来自对方。</translation>
    </message>
    <message>
        <source>&amp;Browse…</source>
        <translation>浏览(&amp;B)…</translation>
    </message>
    <message>
        <source>Key &amp;name:</source>
        <translation>密钥名称(&amp;N)：</translation>
    </message>
    <message>
        <source>Public key &amp;file:</source>
        <translation>公钥文件(&amp;F)：</translation>
    </message>
    <message>
        <source>Choose the public key</source>
        <translation>选择公钥文件</translation>
    </message>
    <message>
        <source>Public keys (*.pem);;All files (*)</source>
        <translation>公钥 (*.pem);;所有文件 (*)</translation>
    </message>
</context>
<context>
    <name>UsersTab</name>
    <message>
        <source>User</source>
        <translation>用户</translation>
    </message>
    <message>
        <source>Roles</source>
        <translation>角色</translation>
    </message>
    <message>
        <source>Disabled</source>
        <translation>已停用</translation>
    </message>
    <message>
        <source>Created</source>
        <translation>创建时间</translation>
    </message>
    <message>
        <source>&amp;Add user</source>
        <translation>添加用户(&amp;A)</translation>
    </message>
    <message>
        <source>User na&amp;me:</source>
        <translation>用户名(&amp;M)：</translation>
    </message>
    <message>
        <source>Roles:</source>
        <translation>角色：</translation>
    </message>
    <message>
        <source>Initial pass&amp;word:</source>
        <translation>初始密码(&amp;W)：</translation>
    </message>
    <message>
        <source>yes</source>
        <translation>是</translation>
    </message>
</context>
</TS>
