; Inno Setup script for ScanStation on Windows (64-bit, Windows 10 or later). Needs Inno Setup 6.3+.
;
; Build (from the project folder, see installer/README.md):
;   pyinstaller installer\scanstation.spec --noconfirm --distpath dist\windows --workpath build\windows
;   iscc installer\windows\scanstation.iss
; Result: dist\scanstation-VERSION-setup.exe
;
; Installs the PyInstaller one-folder bundle and a private tesseract with its language data
; (chi_sim, eng, osd: nothing is downloaded at run time). The program finds that tesseract by itself:
; installer/scanstation_entry.py looks for tesseract\tesseract.exe next to scanstation.exe.
; The station's data (its home folder with the catalog and the page images) is never touched by
; setup or by the uninstaller.

#define AppName "ScanStation"
#define Root AddBackslash(SourcePath) + "..\..\"
#ifndef BundleDir
  #define BundleDir Root + "dist\windows\scanstation"
#endif
#ifndef TesseractDir
  #define TesseractDir AddBackslash(SourcePath) + "tesseract"
#endif
; The spec writes the icon into its work folder (build\windows\scanstation\).
#define IconFile Root + "build\windows\scanstation\scanstation.ico"

; ---- checks at compile time: fail early with a clear message ------------------------------------
#if !FileExists(BundleDir + "\scanstation.exe") || !FileExists(BundleDir + "\scanstationw.exe")
  #error The PyInstaller bundle is missing: run "pyinstaller installer\scanstation.spec --distpath dist\windows --workpath build\windows" first (or pass /DBundleDir=...).
#endif
#if !FileExists(TesseractDir + "\tesseract.exe")
  #error installer\windows\tesseract\tesseract.exe is missing: copy a 64-bit tesseract 5 build there (see installer\README.md).
#endif
#if !FileExists(TesseractDir + "\tessdata\chi_sim.traineddata") || !FileExists(TesseractDir + "\tessdata\eng.traineddata") || !FileExists(TesseractDir + "\tessdata\osd.traineddata")
  #error installer\windows\tesseract\tessdata needs chi_sim, eng and osd .traineddata (see installer\README.md).
#endif

; The version comes from the program itself (the spec writes scanstation.__version__ into the exe).
#ifndef AppVersion
  #define AppVersion GetVersionNumbersString(BundleDir + "\scanstation.exe")
#endif
#if AppVersion == ""
  #error Cannot read the version of scanstation.exe; pass /DAppVersion=X.Y.Z.
#endif

; Simplified Chinese is an unofficial Inno Setup translation and not installed with Inno Setup:
; use it when it is in the compiler's Languages folder (or next to this script), otherwise build an
; English-only installer and say so.
#if FileExists(CompilerPath + "Languages\ChineseSimplified.isl")
  #define ChineseMessages "compiler:Languages\ChineseSimplified.isl"
#elif FileExists(CompilerPath + "Languages\Unofficial\ChineseSimplified.isl")
  #define ChineseMessages "compiler:Languages\Unofficial\ChineseSimplified.isl"
#elif FileExists(AddBackslash(SourcePath) + "ChineseSimplified.isl")
  #define ChineseMessages AddBackslash(SourcePath) + "ChineseSimplified.isl"
#else
  #pragma message "ChineseSimplified.isl not found: the installer will be in English only (the program itself is still Chinese by default)."
#endif

[Setup]
AppId={{6F1C2B7E-3D5A-4E8B-9C41-2A7D5E0B9F13}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=ScanStation
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
PrivilegesRequired=admin
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
OutputDir={#Root}dist
OutputBaseFilename=scanstation-{#AppVersion}-setup
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
ShowLanguageDialog=auto
UninstallDisplayIcon={app}\scanstation.exe
UninstallDisplayName={#AppName}
CloseApplications=yes
#if FileExists(IconFile)
SetupIconFile={#IconFile}
#endif

[Languages]
#ifdef ChineseMessages
Name: "zh_CN"; MessagesFile: "{#ChineseMessages}"
#endif
Name: "en"; MessagesFile: "compiler:Default.isl"

[CustomMessages]
en.AppTitle=ScanStation (social-security archive scanning)
en.CommandPrompt=ScanStation command prompt
en.StartAfterSetup=Start ScanStation
#ifdef ChineseMessages
zh_CN.AppTitle=社保档案扫描工作站
zh_CN.CommandPrompt=ScanStation 命令行
zh_CN.StartAfterSetup=启动社保档案扫描工作站
#endif

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
; The one-folder bundle: scanstation.exe (console, the command line), scanstationw.exe (the window,
; no console) and _internal\ with Python, Qt and the station's resources.
Source: "{#BundleDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs
; A private tesseract: found by the program next to scanstation.exe, never taken from PATH first.
Source: "{#TesseractDir}\*"; DestDir: "{app}\tesseract"; Flags: ignoreversion recursesubdirs createallsubdirs
; Optional: the 64-bit TWAIN Data Source Manager, for machines whose scanner driver did not install it.
#if FileExists(AddBackslash(SourcePath) + "twaindsm\TWAINDSM.dll")
Source: "twaindsm\TWAINDSM.dll"; DestDir: "{sys}"; Flags: onlyifdoesntexist sharedfile uninsneveruninstall
#endif

[Icons]
Name: "{group}\{#AppName}"; Filename: "{app}\scanstationw.exe"; WorkingDir: "{userdocs}"; Comment: "{cm:AppTitle}"
Name: "{group}\{cm:CommandPrompt}"; Filename: "{cmd}"; Parameters: "/k ""set ""PATH={app};%PATH%"" && scanstation --help"""; WorkingDir: "{userdocs}"
Name: "{group}\{cm:UninstallProgram,{#AppName}}"; Filename: "{uninstallexe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\scanstationw.exe"; WorkingDir: "{userdocs}"; Tasks: desktopicon

[Run]
Filename: "{app}\scanstationw.exe"; Description: "{cm:StartAfterSetup}"; Flags: nowait postinstall skipifsilent

